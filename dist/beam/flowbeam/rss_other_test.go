//go:build !unix

package flowbeam_test

import "os"

func maxRSS(*os.ProcessState) int64 { return 0 }
