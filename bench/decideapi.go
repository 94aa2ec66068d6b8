package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/meridian/meridian/api"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/pipeline"
)

// DecideAPIResult is what RunDecideAPI measured.
type DecideAPIResult struct {
	P50Ms, P99Ms float64
	PerSec       float64
	Requests     int
	Errors       int
}

// RunDecideAPI measures POST /v1/decide under concurrent load: an
// instance on an embedded broker, with the state of `customers` W1
// customers (from `events` events), answers `workers` clients that post
// back to back for d, for random customers and channels.
func RunDecideAPI(ctx context.Context, app *config.Config, events, workers int, d time.Duration) (DecideAPIResult, error) {
	var res DecideAPIResult
	b, err := startBroker(ctx, app)
	if err != nil {
		return res, err
	}
	defer b.Close()
	recs := generate(app, events)
	if err := produceAll(ctx, b.Addrs(), recs); err != nil {
		return res, err
	}
	cfg := *app
	cfg.Group = "bench-decide-api"
	cfg.Topics.Changelog, cfg.Topics.Learning = cfg.Group+".changelog", cfg.Group+".learning"
	srv, err := api.New(api.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		return res, err
	}
	p, err := pipeline.New(&cfg, pipeline.Options{Brokers: b.Addrs(), Advertise: srv.Addr()})
	if err != nil {
		srv.Close()
		return res, err
	}
	srv.Attach(p.Ready, p, p, nil)
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() { stop(); <-done }()
	for p.Stats().Events < uint64(events) || !p.Ready() {
		select {
		case err := <-done:
			return res, fmt.Errorf("instance stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	ids := make([][]byte, 0, 1024)
	seen := map[string]bool{}
	for _, r := range recs {
		if !seen[string(r.Key)] && len(ids) < cap(ids) {
			seen[string(r.Key)] = true
			ids = append(ids, r.Key)
		}
	}
	channels := []string{"", "call_center", "web", "email"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 5 * time.Second}
	url := "http://" + srv.Addr() + "/v1/decide"
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	end := time.Now().Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []time.Duration
			errs := 0
			for time.Now().Before(end) {
				body := fmt.Appendf(nil, `{"customer_id":%q,"channel":%q,"context":{"reason":"billing"}}`,
					ids[rng.IntN(len(ids))], channels[rng.IntN(len(channels))])
				start := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					errs++
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lats = append(lats, mine...)
			res.Errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Requests = len(lats)
	res.PerSec = float64(len(lats)) / d.Seconds()
	res.P50Ms, res.P99Ms = quantileMs(lats, 0.5), quantileMs(lats, 0.99)
	return res, nil
}
