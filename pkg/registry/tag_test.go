package registry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockTags(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // lock files of this test only
	const registry = "127.0.0.1:5000/lock-test"
	const wait = 700 * time.Millisecond // several of LockTags' 200 ms polls

	cases := []struct {
		name    string
		second  string // registry of the second holder
		ctx     func() (context.Context, context.CancelFunc)
		release bool  // the first holder unlocks after wait
		wantErr error // of the second holder
		waits   bool  // the second holder waits (and is told so)
	}{
		{"same registry serializes", registry, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, nil, true},
		{"another registry does not wait", "127.0.0.1:5001/lock-test", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, false, nil, false},
		{"cancelled context", registry, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(wait, cancel)
			return ctx, cancel
		}, false, context.Canceled, true},
		{"deadline", registry, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), wait)
		}, false, context.DeadlineExceeded, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unlock1, err := LockTags(context.Background(), registry, nil)
			require.NoError(t, err)
			released := false
			defer func() {
				if !released {
					unlock1()
				}
			}()

			var mu sync.Mutex
			var told []string
			notify := func(s string) { mu.Lock(); told = append(told, s); mu.Unlock() }
			type result struct {
				unlock func()
				err    error
				at     time.Time
			}
			done := make(chan result, 1)
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			go func() {
				u, err := LockTags(ctx, tc.second, notify)
				done <- result{u, err, time.Now()}
			}()

			var res result
			if tc.release {
				select {
				case res = <-done:
					t.Fatalf("second holder got the lock after %s while the first held it", res.at.Sub(start))
				case <-time.After(wait):
				}
				releasedAt := time.Now()
				unlock1()
				released = true
				select {
				case res = <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("second holder did not get the lock after the first unlocked")
				}
				assert.False(t, res.at.Before(releasedAt), "second holder got the lock before the first unlocked")
			} else {
				select {
				case res = <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("LockTags did not return")
				}
			}

			if tc.wantErr != nil {
				require.ErrorIs(t, res.err, tc.wantErr)
				assert.Nil(t, res.unlock)
				assert.GreaterOrEqual(t, res.at.Sub(start), wait-50*time.Millisecond, "returned before the context ended")
			} else {
				require.NoError(t, res.err)
				require.NotNil(t, res.unlock)
				res.unlock()
			}
			if !tc.waits {
				assert.Less(t, res.at.Sub(start), 150*time.Millisecond, "a lock on another registry is free")
			}

			mu.Lock()
			defer mu.Unlock()
			if tc.waits {
				require.Len(t, told, 1, "notify is called once however long the wait")
				assert.Contains(t, told[0], tc.second)
				assert.Contains(t, told[0], "waiting for another matrix run")
			} else {
				assert.Empty(t, told)
			}
		})
	}
}
