package main

import (
	"sync"
	"time"
)

// openLoop sends op at a constant rate for d, whatever the answers take
// (a constant arrival rate: a slow answer does not hold back the next
// request), and measures each latency from the request's scheduled send
// time, so that queueing is counted (no coordinated omission). At most
// maxInFlight requests run at once; a request beyond waits, its wait
// counted. It returns the latencies, the number of failed requests and
// the first failure.
func openLoop(rate float64, d time.Duration, op func() error) (lat []time.Duration, failed int, first error) {
	const maxInFlight = 512
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lats := make([]time.Duration, n)
	errs := make([]error, n)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = op()
			lats[i] = time.Since(due)
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			if failed == 0 {
				first = e
			}
			failed++
		}
	}
	return lats, failed, first
}

// openLoopRoutes is the open loop of the reads at scale and their floor:
// request i goes to route i%routes, due at start + i/rate, with no cap on
// the requests in flight (what piles up is what these figures measure).
// It returns each route's latencies (from the due time) and failures, the
// requests sent and the wall time.
func openLoopRoutes(rate int, d time.Duration, routes int, op func(r int) error) (lat [][]time.Duration, failed []int, total int, elapsed time.Duration) {
	var mu sync.Mutex
	lat, failed = make([][]time.Duration, routes), make([]int, routes)
	total = int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		r := i % routes
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := op(r)
			took := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[r]++
				return
			}
			lat[r] = append(lat[r], took)
		}()
	}
	wg.Wait()
	return lat, failed, total, time.Since(start)
}
