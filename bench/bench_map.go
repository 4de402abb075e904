// bench_map.go — Go's own map on bench_map.c's workloads, for make bench's
// Go column (run-bench.sh builds it when a Go toolchain is installed).
//
//	go run bench_map.go [small] [large] [mem N]
//
// The same rows, key sequences (the same xorshift generator, seeded and
// called in the same order), phases, repetitions and output format as
// bench_map.c: "<row>\t<ns per operation>".  Keys are int64 and string
// ("user:%016x", the same bytes); values int64.  "mem N" prints the peak
// resident memory per entry of a map[int64]int64 of N entries.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var rng uint64 = 88172645463325252

func rnd() uint64 {
	rng ^= rng << 13
	rng ^= rng >> 7
	rng ^= rng << 17
	return rng
}

type keyset struct {
	ints, missInts []int64
	order          []int
	strs, missStrs []string
}

func makeKeys(n int, withStrings bool) *keyset {
	ks := &keyset{ints: make([]int64, n), missInts: make([]int64, n), order: make([]int, n)}
	for i := 0; i < n; i++ {
		ks.ints[i] = int64(rnd() | 1)
		ks.missInts[i] = int64(rnd() &^ 1)
		ks.order[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(rnd() % uint64(i+1))
		ks.order[i], ks.order[j] = ks.order[j], ks.order[i]
	}
	if withStrings {
		ks.strs = make([]string, n)
		ks.missStrs = make([]string, n)
		for i := 0; i < n; i++ {
			ks.strs[i] = fmt.Sprintf("user:%016x", uint64(ks.ints[i]))
			ks.missStrs[i] = fmt.Sprintf("user:%016x", uint64(ks.missInts[i]))
		}
	}
	return ks
}

var opNames = []string{"insert", "lookup-hit", "lookup-miss", "delete", "iterate"}

var sink int64

func keep(best []float64, d []float64, n int) {
	for o := range d {
		per := d[o] / float64(n)
		if best[o] == 0 || per < best[o] {
			best[o] = per
		}
	}
}

func reps(n int) int {
	if n < 100000 {
		return 20
	}
	return 1
}

// One round per key type, written out twice on purpose: with a generic
// map[K]int64, Go 1.19 would not use its fast int64 and string map
// routines (mapaccess1_fast64, ..._faststr), and Go would be measured
// slower than it is.
func roundInts(ks *keyset, best []float64) {
	n := len(ks.ints)
	var s int64
	m := make(map[int64]int64)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		m[ks.ints[i]] = int64(i)
	}
	t1 := time.Now()
	for i := 0; i < n; i++ {
		s += m[ks.ints[ks.order[i]]]
	}
	t2 := time.Now()
	for i := 0; i < n; i++ {
		s += m[ks.missInts[ks.order[i]]]
	}
	t3 := time.Now()
	for i := 0; i < n; i++ {
		delete(m, ks.ints[ks.order[i]])
	}
	t4 := time.Now()
	for i := 0; i < n; i++ {
		m[ks.ints[i]] = int64(i)
	}
	r := reps(n)
	ti := time.Now()
	for k := 0; k < r; k++ {
		for _, v := range m {
			s += v
		}
	}
	it := float64(time.Since(ti).Nanoseconds()) / float64(r)
	sink += s
	keep(best, []float64{float64(t1.Sub(t0)), float64(t2.Sub(t1)), float64(t3.Sub(t2)), float64(t4.Sub(t3)), it}, n)
}

func roundStrings(ks *keyset, best []float64) {
	n := len(ks.strs)
	var s int64
	m := make(map[string]int64)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		m[ks.strs[i]] = int64(i)
	}
	t1 := time.Now()
	for i := 0; i < n; i++ {
		s += m[ks.strs[ks.order[i]]]
	}
	t2 := time.Now()
	for i := 0; i < n; i++ {
		s += m[ks.missStrs[ks.order[i]]]
	}
	t3 := time.Now()
	for i := 0; i < n; i++ {
		delete(m, ks.strs[ks.order[i]])
	}
	t4 := time.Now()
	for i := 0; i < n; i++ {
		m[ks.strs[i]] = int64(i)
	}
	r := reps(n)
	ti := time.Now()
	for k := 0; k < r; k++ {
		for _, v := range m {
			s += v
		}
	}
	it := float64(time.Since(ti).Nanoseconds()) / float64(r)
	sink += s
	keep(best, []float64{float64(t1.Sub(t0)), float64(t2.Sub(t1)), float64(t3.Sub(t2)), float64(t4.Sub(t3)), it}, n)
}

func bench(keyname string, withStrings bool, sizename string, n, rounds int) {
	ks := makeKeys(n, withStrings)
	best := make([]float64, len(opNames))
	for r := 0; r < rounds; r++ {
		if withStrings {
			roundStrings(ks, best)
		} else {
			roundInts(ks, best)
		}
	}
	for o, name := range opNames {
		fmt.Printf("%s %s %s\t%.2f\n", keyname, sizename, name, best[o])
	}
}

// Peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mem(n int) {
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = int64(rnd() | 1)
	}
	runtime.GC()
	before := peakRSS()
	m := make(map[int64]int64)
	for i, k := range keys {
		m[k] = int64(i)
	}
	after := peakRSS()
	fmt.Printf("int64 mem %d\t%.1f\n", n, float64(after-before)/float64(n))
	sink += int64(len(m))
}

func main() {
	args := os.Args[1:]
	small, large := len(args) == 0, len(args) == 0
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "small":
			small = true
		case "large":
			large = true
		case "mem":
			if i+1 < len(args) {
				n, _ := strconv.Atoi(args[i+1])
				mem(n)
				return
			}
		}
	}
	fmt.Fprintf(os.Stderr, "bench-map (go %s)\n", runtime.Version())
	if small {
		bench("int64", false, "small", 1000, 3000)
		bench("string", true, "small", 1000, 3000)
	}
	if large {
		bench("int64", false, "large", 4<<20, 6)
		bench("string", true, "large", 2<<20, 6)
	}
}
