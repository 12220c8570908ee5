// Package caps maps the capability names of runtime-spec ("CAP_CHOWN") to their numbers, for
// the driver and the checker alike. The list is gocapability's (the capabilities runtime-tools
// knows; Debian's golang-gocapability-dev, which runtime-tools depends on), not a table typed here.
package caps

import (
	"strings"

	"github.com/syndtr/gocapability/capability"
)

// Numbers maps "CAP_CHOWN" to 0, "CAP_DAC_OVERRIDE" to 1, ... for every capability gocapability lists.
var Numbers = func() map[string]int {
	m := make(map[string]int)
	for _, c := range capability.List() {
		m["CAP_"+strings.ToUpper(c.String())] = int(c)
	}
	return m
}()
