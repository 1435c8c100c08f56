// Package sharding checks that several managers started with --watch-label-selector share one
// cluster as shards: each watches and reconciles only its own Releases and ChartRepositories, each
// elects its own leader, and a Release may use a ChartRepository of another shard.
package sharding
