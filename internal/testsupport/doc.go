// Package testsupport holds object builders shared by Capstan's tests, so that a test states the
// few fields it cares about: MakeRelease("web", ns).Chart("repo", "demo", "1.x").Obj(). It is
// imported only from tests.
package testsupport
