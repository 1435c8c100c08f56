// Package hygiene checks the repository itself rather than Capstan's behaviour: that a clone
// stands on its own (no tracked file points outside the checkout), and that the documentation
// names every command, flag and API field the code has, and only tests that exist.
package hygiene
