package repo

import (
	"context"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestRetryAfter(t *testing.T) {
	cases := map[string]struct {
		header   string
		min, max time.Duration
	}{
		"absent":              {},
		"seconds":             {header: "3", min: 3 * time.Second, max: 3 * time.Second},
		"negative seconds":    {header: "-5"},
		"garbage":             {header: "soon"},
		"an HTTP date ahead":  {header: time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat), min: 8 * time.Second, max: 10 * time.Second},
		"an HTTP date behind": {header: time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			h := http.Header{}
			if tc.header != "" {
				h.Set("Retry-After", tc.header)
			}
			d := retryAfter(h)
			g.Expect(d).To(BeNumerically(">=", tc.min))
			g.Expect(d).To(BeNumerically("<=", tc.max))
		})
	}
}

func TestRetryPolicy_next(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxElapsed: 5 * time.Second}.withDefaults()
	deadline, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cases := map[string]struct {
		ctx        context.Context
		attempt    int
		start      time.Time
		retryAfter time.Duration
		ok         bool
		min, max   time.Duration
	}{
		"the first wait is the initial backoff, jittered": {ctx: context.Background(), attempt: 1, start: time.Now(), ok: true,
			min: 80 * time.Millisecond, max: 120 * time.Millisecond},
		"the wait doubles": {ctx: context.Background(), attempt: 3, start: time.Now(), ok: true,
			min: 320 * time.Millisecond, max: 480 * time.Millisecond},
		"the wait is capped": {ctx: context.Background(), attempt: 4, start: time.Now(), ok: true,
			min: 640 * time.Millisecond, max: time.Second},
		"Retry-After lengthens the wait": {ctx: context.Background(), attempt: 1, start: time.Now(), retryAfter: 700 * time.Millisecond,
			ok: true, min: 700 * time.Millisecond, max: 700 * time.Millisecond},
		"Retry-After beyond the cap stops":   {ctx: context.Background(), attempt: 1, start: time.Now(), retryAfter: 2 * time.Second},
		"the last attempt stops":             {ctx: context.Background(), attempt: 5, start: time.Now()},
		"the spent time budget stops":        {ctx: context.Background(), attempt: 1, start: time.Now().Add(-5 * time.Second)},
		"a context deadline too close stops": {ctx: deadline, attempt: 1, start: time.Now(), retryAfter: 500 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			wait, ok := p.next(tc.ctx, tc.attempt, tc.start, tc.retryAfter)
			g.Expect(ok).To(Equal(tc.ok))
			if ok {
				g.Expect(wait).To(BeNumerically(">=", tc.min))
				g.Expect(wait).To(BeNumerically("<=", tc.max))
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	g := NewWithT(t)
	for code, want := range map[int]bool{200: false, 304: false, 400: false, 401: false, 404: false, 408: false,
		429: true, 500: true, 501: false, 502: true, 503: true, 504: true} {
		g.Expect(retryableStatus(code)).To(Equal(want), "status %d", code)
	}
}
