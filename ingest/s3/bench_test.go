package s3_test

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/s3"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/normalize"
)

// BenchmarkS3Download reads 64 gzip AWS flow-log objects (4,000 records,
// about 100 kB each) from gofakes3 on loopback, at 1, 8 and 32 objects at
// a time, three ways in the same run:
//
//	impl=sdk     the baseline: the raw SDK, GetObject and io.Copy to io.Discard
//	impl=store   flowsym's read path: s3.Bucket.Open (resumable reader) and io.Copy
//	impl=decode  the whole ingest: stores.Open, List, normalize.Decoder.Run
//
// Compare them, or a change against the last run, with benchstat:
//
//	go test -run='^$' -bench=BenchmarkS3Download -count=6 ./ingest/s3 | tee new.txt
//	benchstat -col /impl new.txt
//	benchstat old.txt new.txt
func BenchmarkS3Download(b *testing.B) {
	const objects, records = 64, 4000
	srv := emulator.StartS3(b)
	srv.CreateBucket(b, "bench")
	emulator.S3Env(b, srv.URL)
	slot := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var keys []string
	var total int64
	for i := range objects {
		key := ingesttest.AWSKey("123456789012", "us-east-1", slot.Add(time.Duration(i)*5*time.Minute), i)
		data := ingesttest.AWSObject(uint64(i+1), records, slot)
		srv.Put(b, "bench", key, data)
		keys = append(keys, key)
		total += int64(len(data))
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		b.Fatal(err)
	}
	sdk := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	bucket, err := s3.New(ctx, "bench", s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	store, root, err := stores.Open(ctx, "s3://bench/AWSLogs/", stores.Options{})
	if err != nil {
		b.Fatal(err)
	}

	report := func(b *testing.B) {
		s := b.Elapsed().Seconds()
		b.ReportMetric(float64(objects*b.N)/s, "objects/s")
		b.ReportMetric(float64(total*int64(b.N))/s/1e6, "MB/s")
		b.ReportMetric(0, "ns/op") // per-op time of a 64-object batch says little
	}
	each := func(conc int, fn func(key string) error) error {
		g, ctx := errgroup.WithContext(ctx)
		g.SetLimit(conc)
		for _, k := range keys {
			g.Go(func() error {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fn(k)
			})
		}
		return g.Wait()
	}
	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("impl=sdk/conc=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := each(conc, func(key string) error {
					out, err := sdk.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(key)})
					if err != nil {
						return err
					}
					defer out.Body.Close()
					_, err = io.Copy(io.Discard, out.Body)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run(fmt.Sprintf("impl=store/conc=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := each(conc, func(key string) error {
					r, err := bucket.Open(ctx, "s3://bench/"+key)
					if err != nil {
						return err
					}
					defer r.Close()
					_, err = io.Copy(io.Discard, r)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run(fmt.Sprintf("impl=decode/conc=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			var rows atomic.Int64
			for b.Loop() {
				d := normalize.NewDecoder(normalize.Options{})
				problems := normalize.NewProblems(0, 1)
				list := func(yield func(normalize.Job) error) error {
					return store.List(ctx, root, func(o ingest.Object) error {
						return yield(normalize.Job{Source: store, Object: o})
					})
				}
				sink := func(rec arrow.RecordBatch) error { rows.Add(rec.NumRows()); return nil }
				if err := d.Run(ctx, normalize.RunConfig{Workers: conc, Problems: problems}, list, sink); err != nil {
					b.Fatal(err)
				}
				if d.Stats.Objects.Load() != objects {
					b.Fatalf("decoded %d objects, want %d", d.Stats.Objects.Load(), objects)
				}
			}
			report(b)
			b.ReportMetric(float64(rows.Load())/b.Elapsed().Seconds(), "records/s")
		})
	}
}
