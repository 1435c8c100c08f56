// Package repo owns everything between a ChartRepository's URL and the bytes of a chart archive.
// It fetches and parses Helm HTTP repository indexes (index.yaml or JSON) into a compact form
// held in a bounded cache shared by every user of a repository, resolves semver constraints the
// way Helm does, downloads archives under size limits and verifies them against the digest the
// index or the OCI descriptor announces, and lists, resolves and pulls charts from OCI registries
// with oras-go. It also generates index.yaml files for `capstan repo index`. Credentials are sent
// only to the repository's own origin, and no error or log line it produces carries a credential
// or a URL's userinfo or query string. It imports no Kubernetes client; the controllers call it.
package repo
