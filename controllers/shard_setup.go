package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/options"
)

// CacheOptions returns the manager cache's settings for opts. Every cached object goes through
// StripCachedObject, so the manager's memory holds no Secret or ConfigMap value whichever way a
// watch was registered. With --watch-label-selector the informers of Releases and
// ChartRepositories hold only the objects whose labels match, so the manager watches, caches
// and reconciles only its shard; every other kind is cached as before.
func CacheOptions(opts options.Options) (cache.Options, error) {
	base := cache.Options{DefaultTransform: StripCachedObject}
	sel, err := opts.WatchSelector()
	if err != nil || sel == nil {
		return base, err
	}
	base.ByObject = map[client.Object]cache.ByObject{
		&capstanv1.Release{}:         {Label: sel},
		&capstanv1.ChartRepository{}: {Label: sel},
	}
	return base, nil
}

// shardReader is the Release state machine's client in a sharded manager. Its cache holds only
// the shard's Releases and ChartRepositories, but a Release may name a ChartRepository or a
// dependsOn Release of another shard: a Get of either kind that the cache does not find is
// asked again of the API server, uncached. Reads of the shard's own objects stay cached.
type shardReader struct {
	client.Client
	uncached client.Reader
}

// Get implements client.Reader.
func (c shardReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Client.Get(ctx, key, obj, opts...)
	if !apierrors.IsNotFound(err) {
		return err
	}
	switch obj.(type) {
	case *capstanv1.ChartRepository, *capstanv1.Release:
		return c.uncached.Get(ctx, key, obj, opts...)
	}
	return err
}

// shardClient returns the client the Release state machine reads through: the manager's cached
// client, or a shardReader when the manager watches one shard.
func shardClient(c client.Client, uncached client.Reader, opts options.Options) client.Client {
	if sel, err := opts.WatchSelector(); err != nil || sel == nil {
		return c
	}
	return shardReader{Client: c, uncached: uncached}
}
