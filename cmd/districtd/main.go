// Command districtd is the district platform server, the other end of the
// kiosks' sync. It is built in the sync and district-web issues; until then
// it only says so, so that packaging and CI already know the binary.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "districtd: the district platform is not built yet; see the sync issue")
	os.Exit(2)
}
