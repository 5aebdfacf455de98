// maploop: map-write workloads for the benchmarks of tools/bench, driven by commands on stdin.
//
// It prints "ready <pid>", then runs one command per line until stdin closes:
//
//	loop N    N writes m[k] = i to a map[int64]int of 1024 keys (one runtime.mapassign_fast64
//	          call each; the map never grows) on one goroutine locked to its thread; prints
//	          "loop ops=N wall_ns=W cpu_ns=C", C being that thread's CPU time (a uprobe trap
//	          is charged to the thread that hits it, wherever else the machine is busy)
//	heavy S   a map-heavy service-like workload for S seconds on GOMAXPROCS goroutines: each
//	          op makes a request-scoped map[string]string of 6 headers, bumps a shared
//	          map[int64]int under a mutex, updates and trims a per-worker map[int64][]byte
//	          cache, and hashes 256 bytes; prints "tick <unix_ns> <ops so far>" every 250 ms
//	          and "heavy ops=N wall_ns=W" at the end
package main

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID

func threadCPUNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

var sink int

// The loop's map, filled before "ready": a loop's only map writes are its N.
var loopMap = make(map[int64]int, 1024)

func init() {
	for i := 0; i < 1024; i++ {
		loopMap[int64(i)] = i
	}
}

//go:noinline
func loop(n int) (wall, cpu int64) {
	m := loopMap
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, c0 := time.Now(), threadCPUNs()
	for i := 0; i < n; i++ {
		m[int64(i&1023)] = i
	}
	c1 := threadCPUNs()
	wall = time.Since(t0).Nanoseconds()
	sink += len(m)
	return wall, c1 - c0
}

type worker struct {
	ops atomic.Int64
	_   [56]byte // its own cache line
}

var (
	sharedMu sync.Mutex
	shared   = map[int64]int{}
	headers  = []string{"Host", "Accept", "User-Agent", "X-Request-Id", "Content-Type", "Cookie"}
)

func op(w int, i int64, cache map[int64][]byte, buf []byte) {
	h := make(map[string]string, len(headers))
	for j, k := range headers {
		h[k] = headers[(j+int(i))%len(headers)]
	}
	sharedMu.Lock()
	shared[i%4096]++
	sharedMu.Unlock()
	cache[i%2048] = buf[:16+int(i%64)]
	if i%3 == 0 {
		delete(cache, (i+1024)%2048)
	}
	f := fnv.New64a()
	buf[0] = byte(i)
	f.Write(buf)
	sink += len(h) + int(f.Sum64()&1) + w
}

func heavy(secs float64, out *bufio.Writer) {
	n := runtime.GOMAXPROCS(0)
	ws := make([]worker, n)
	var stop atomic.Bool
	var wg sync.WaitGroup
	total := func() (s int64) {
		for i := range ws {
			s += ws[i].ops.Load()
		}
		return s
	}
	t0 := time.Now()
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cache := map[int64][]byte{}
			buf := make([]byte, 256)
			for i := int64(w) << 40; !stop.Load(); i++ {
				op(w, i, cache, buf)
				ws[w].ops.Add(1)
			}
		}(w)
	}
	end := t0.Add(time.Duration(secs * float64(time.Second)))
	for t := time.Now(); t.Before(end); t = time.Now() {
		d := 250 * time.Millisecond
		if r := end.Sub(t); r < d {
			d = r
		}
		time.Sleep(d)
		fmt.Fprintf(out, "tick %d %d\n", time.Now().UnixNano(), total())
		out.Flush()
	}
	stop.Store(true)
	wg.Wait()
	fmt.Fprintf(out, "heavy ops=%d wall_ns=%d\n", total(), time.Since(t0).Nanoseconds())
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "ready %d\n", os.Getpid())
	out.Flush()
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) != 2 {
			fmt.Fprintf(out, "error: want 'loop N' or 'heavy SECONDS'\n")
			out.Flush()
			continue
		}
		switch f[0] {
		case "loop":
			n, err := strconv.Atoi(f[1])
			if err != nil || n <= 0 {
				fmt.Fprintf(out, "error: loop %s\n", f[1])
				break
			}
			wall, cpu := loop(n)
			fmt.Fprintf(out, "loop ops=%d wall_ns=%d cpu_ns=%d\n", n, wall, cpu)
		case "heavy":
			s, err := strconv.ParseFloat(f[1], 64)
			if err != nil || s <= 0 {
				fmt.Fprintf(out, "error: heavy %s\n", f[1])
				break
			}
			heavy(s, out)
		default:
			fmt.Fprintf(out, "error: unknown command %s\n", f[0])
		}
		out.Flush()
	}
}
