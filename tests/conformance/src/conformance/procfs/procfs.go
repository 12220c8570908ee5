// Package procfs reads what the driver (on the host) and the checker (in the container) both
// read from /proc.
package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// NsInode is the inode number of the namespace a /proc/<pid>/ns/<name> link names ("net:[4026531840]").
func NsInode(link string) (uint64, error) {
	target, err := os.Readlink(link)
	if err != nil {
		return 0, err
	}
	i, j := strings.Index(target, "["), strings.Index(target, "]")
	if i < 0 || j < i {
		return 0, fmt.Errorf("unexpected link %q", target)
	}
	return strconv.ParseUint(target[i+1:j], 10, 64)
}
