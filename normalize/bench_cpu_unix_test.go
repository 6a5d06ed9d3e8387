//go:build unix

package normalize

import "syscall"

// processCPU returns the CPU time the process has used, user and system,
// in nanoseconds. Benchmarks report it per operation because the wall
// clock on a shared machine says as much about the neighbours as about
// the code.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
