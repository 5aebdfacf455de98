// The mapwatch demo workload: a small "service" with the map habits mapwatch looks for.
//
//   - a session cache that only grows (no eviction)
//   - a rate table that is filled, then emptied, and keeps its memory
//   - a shared counter map guarded by a mutex that many goroutines fight over
//
// It runs until killed.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

type sessionStore struct {
	sessions map[string][]byte
}

func newSessionStore() *sessionStore {
	return &sessionStore{sessions: make(map[string][]byte)}
}

//go:noinline
func (s *sessionStore) remember(id string, data []byte) {
	s.sessions[id] = data
}

type hitCounter struct {
	mu   sync.Mutex
	hits map[int64]int
}

//go:noinline
func (c *hitCounter) record(route int64) {
	c.mu.Lock()
	c.hits[route]++
	time.Sleep(500 * time.Microsecond) // work done while holding the lock
	c.mu.Unlock()
}

//go:noinline
func fillRates(rates map[int64]float64, n int) {
	for i := 0; i < n; i++ {
		rates[int64(i)] = float64(i) * 0.5
	}
}

//go:noinline
func drainRates(rates map[int64]float64) {
	for k := range rates {
		if k%100 != 0 {
			delete(rates, k)
		}
	}
}

func main() {
	store := newSessionStore()
	counter := &hitCounter{hits: make(map[int64]int)}
	rates := make(map[int64]float64)
	fillRates(rates, 60000)
	drainRates(rates)

	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := 0; ; i++ {
				counter.record(int64(i % 16))
				time.Sleep(time.Millisecond)
			}
		}(w)
	}
	fmt.Printf("ready %d\n", os.Getpid())
	for i := 0; ; i++ {
		store.remember("session-"+strconv.Itoa(i), make([]byte, 64))
		if i%100 == 0 {
			rates[0] = float64(i) // still in use, still holding its peak's memory
		}
		time.Sleep(200 * time.Microsecond)
	}
}
