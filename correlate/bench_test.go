package correlate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowsym/flowsym/normalize/schema"
)

// genBatches builds n records as Arrow batches: connections of four
// records each (spoke interface and firewall, both directions), 1% of them
// one-way, spread over an hour, from a few thousand clients to a few
// hundred servers. Building them is not part of the measurement.
func genBatches(tb testing.TB, n int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	b := schema.NewBuilder(memory.NewGoAllocator(), 0, func(rec arrow.RecordBatch) error {
		rec.Retain()
		out = append(out, rec)
		return nil
	})
	r := rand.New(rand.NewPCG(1, 2))
	base := int64(1_763_632_800_000_000)
	for i := 0; i < n; {
		client := netip.AddrFrom4([4]byte{10, 1, byte(r.IntN(16)), byte(1 + r.IntN(250))})
		server := netip.AddrFrom4([4]byte{93, 184, byte(r.IntN(4)), byte(1 + r.IntN(100))})
		cport, t := uint16(32768+r.IntN(28000)), base+int64(r.IntN(3600))*1_000_000
		oneWay := r.IntN(100) == 0
		for _, obs := range []string{"eni-pod", "eni-fwa"} {
			for dir := range 2 {
				if dir == 1 && oneWay {
					continue
				}
				b.Str(schema.Cloud, "aws")
				b.Str(schema.LogKind, "aws-vpc")
				b.Str(schema.Observer, obs)
				b.Time(schema.StartTime, t)
				b.Time(schema.EndTime, t+60_000_000)
				src, dst, sp, dp, flags := client, server, cport, uint16(443), int64(3)
				if dir == 1 {
					src, dst, sp, dp, flags = server, client, 443, cport, 19
				}
				b.Addr(schema.SrcAddr, src)
				b.Addr(schema.DstAddr, dst)
				b.Int(schema.SrcPort, int64(sp))
				b.Int(schema.DstPort, int64(dp))
				b.Int(schema.Protocol, 6)
				b.Int(schema.Packets, 10)
				b.Int(schema.TCPFlags, flags)
				b.Str(schema.SourceObject, "s3://logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20/x.log.gz")
				b.Int(schema.SourceLine, int64(i+1))
				if err := b.Commit(); err != nil {
					tb.Fatal(err)
				}
				i++
			}
		}
	}
	if err := b.Flush(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkCorrelate measures records/s through the correlator (Add, then
// Result judging every connection) and the heap it holds per connection.
//
//	go test -run='^$' -bench=Correlate -benchtime=1x ./correlate
func BenchmarkCorrelate(b *testing.B) {
	topo, err := Load("bench", []byte(`observers:
  - {name: fw, role: inspection, match: {interfaces: [eni-fw*]}}
  - {name: spoke, role: spoke, match: {cidrs: [10.1.0.0/16]}}
`))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("records=%dM", n/1_000_000), func(b *testing.B) {
			if testing.Short() && n > 1_000_000 {
				b.Skip("10M records take a few GiB")
			}
			batches := genBatches(b, n)
			defer func() {
				for _, rec := range batches {
					rec.Release()
				}
			}()
			var conns int
			var heap uint64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				c := New(Options{Topology: topo})
				for _, rec := range batches {
					if err := c.Add(rec); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = after.HeapAlloc - before.HeapAlloc
				conns = c.Connections()
				res, err := c.Result()
				if err != nil {
					b.Fatal(err)
				}
				if res.ByKind[KindOneWay] == 0 {
					b.Fatal("no one_way findings in the generated data")
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(heap)/float64(conns), "B/conn")
			b.ReportMetric(float64(conns), "conns")
		})
	}
}

// BenchmarkJudge measures the end of a run: judging every connection of a
// two-shard run. Run it with -cpu 1,2 to see what judging the shards in
// parallel gains.
//
//	go test -run='^$' -bench=Judge -cpu 1,2 ./correlate
func BenchmarkJudge(b *testing.B) {
	batches := genBatches(b, 1_000_000)
	s := NewSharded(Options{}, 2)
	for _, rec := range batches {
		if err := s.Add(rec); err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
	parts := s.Close()
	var conns int64
	for b.Loop() {
		res, err := ResultOf(parts)
		if err != nil {
			b.Fatal(err)
		}
		conns = res.Connections
	}
	b.ReportMetric(float64(conns)*float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}
