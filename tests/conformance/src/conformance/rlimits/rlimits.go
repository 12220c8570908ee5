// Package rlimits records the process's resource limits before package os initialises:
// Go 1.19's os package raises the RLIMIT_NOFILE soft limit to the hard limit at start-up, so
// the checker must read what the runtime set before that happens. It imports only syscall,
// and the checker imports it in an import declaration of its own, ahead of every other one
// (package initialisation follows the order of the import declarations in Go 1.19).
package rlimits

import "syscall"

// Names maps the runtime-spec rlimit names to the Linux resource numbers.
var Names = map[string]int{
	"RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
	"RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
	"RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
	"RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}

// AtStart holds each resource's limits as the process found them, by resource number.
var AtStart [16]syscall.Rlimit

// Errors holds the getrlimit error for a resource, if any.
var Errors [16]error

func init() {
	for i := range AtStart {
		Errors[i] = syscall.Getrlimit(i, &AtStart[i])
	}
}
