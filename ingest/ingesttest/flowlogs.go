package ingesttest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"time"
)

// AWSHeader is the header line of AWS's default (version 2) text format.
const AWSHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// AWSObject returns a gzip AWS flow-log object as AWS writes it to S3: the
// header line, then records records in the default format, ending around
// slot. The same seed gives the same bytes, and every record of every seed
// is distinct, so tests can count records lost or repeated.
func AWSObject(seed uint64, records int, slot time.Time) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var text bytes.Buffer
	text.WriteString(AWSHeader)
	text.WriteByte('\n')
	end := slot.Unix()
	for i := range records {
		action := "ACCEPT"
		if rng.IntN(10) == 0 {
			action = "REJECT"
		}
		start := end - 60 - int64(rng.IntN(240))
		fmt.Fprintf(&text, "2 123456789012 eni-%017x 10.%d.%d.%d 172.31.%d.%d %d %d 6 %d %d %d %d %s OK\n",
			seed, rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256),
			1024+i%60000, []int{443, 80, 22, 5432}[rng.IntN(4)], 1+rng.IntN(100), 40+rng.IntN(150000), start, end, action)
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	zw.Write(text.Bytes())
	zw.Close()
	return out.Bytes()
}

// AWSKey returns the key AWS gives an object of the default layout.
func AWSKey(account, region string, slot time.Time, n int) string {
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_fl-0a1b2c3d4e5f67890_%s_%08x.log.gz",
		account, region, slot.Format("2006/01/02"), account, region, slot.Format("20060102T1504Z"), n)
}
