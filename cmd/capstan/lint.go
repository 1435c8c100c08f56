package main

import "github.com/capstan-dev/capstan/internal/render/cli"

// The lint command lives in internal/render/cli beside the template command; here it is only
// registered.
func init() { register(cli.NewLintCommand) }
