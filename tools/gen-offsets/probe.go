// Built by tools/gen-offsets with each Go toolchain; its DWARF carries the runtime layouts.
package main

import (
	"fmt"
	"sync"
)

func main() {
	m := map[string]int{}
	var mu sync.Mutex
	var sm sync.Map
	mu.Lock()
	m["a"]++
	mu.Unlock()
	sm.Store("a", 1)
	fmt.Println(len(m))
}
