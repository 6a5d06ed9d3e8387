package ingest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// DirLister is implemented by stores that can list one level of their
// hierarchy at a time, with "/" as the delimiter (S3 and GCS delimiter
// listing, Azure's hierarchy listing, a local directory). ListWindow uses
// it to walk down to the dates of a time window without listing the rest.
type DirLister interface {
	// ListDir calls fn once for every object directly under prefix and
	// once for every deeper level, given as an Object whose Name ends in
	// "/" and whose other fields are zero. prefix may end inside a name
	// ("…/05/01/10:") to list only the entries that start with it. The
	// order is not defined. A prefix with nothing under it yields nothing,
	// not an error.
	ListDir(ctx context.Context, prefix string, fn func(Object) error) error
}

// ListWindow calls fn, in lexical order, for every object under root that
// can hold records in window, and lists as little as it can to find them.
//
// Every cloud files flow logs under dates (see KeySpan):
//
//	AWS      …/AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]
//	AWS Hive …/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]
//	GCS sink …/compute.googleapis.com/vpc_flows/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json (and nat_flows)
//	Azure    …/resourceId=/…/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<mac>/PT1H.json
//
// When src is a DirLister, ListWindow walks down from root one level at a
// time. Levels without a date (accounts, "vpcflowlogs", regions, Azure
// resource ids) are all walked: that is how the layout under a root such
// as s3://bucket/AWSLogs/ is discovered. A dated level is skipped when its
// span misses the window, listed flat (one paginated listing of
// everything under it) when the window covers its dates or when it is an
// hour (nothing below an hour is a directory in any layout), and walked
// further otherwise. A directory is listed flat, too, when every object
// it can hold overlaps the window once KeySpan's margin is counted. So one hour out of a year costs a listing of each
// level on the way down (year, month, day) and a flat listing of three
// hours (the hour and its neighbours, for KeySpan's margin) instead of a
// listing of the year; a day of the daily AWS layout is one listing of
// that day, whose file names then give each object's 5-minute slot.
//
// Objects whose names carry no date are kept: flowsym cannot prove they
// are outside the window, and the decoder drops records outside it anyway.
// A Source that is not a DirLister is listed flat and filtered by name.
// A zero window lists everything under root.
//
// root is taken as a directory: "s3://b/AWSLogs" walks "s3://b/AWSLogs/",
// unless it names one object (checked when src is a Stater).
func ListWindow(ctx context.Context, src Source, root string, window Span, fn func(Object) error) error {
	if window.IsZero() {
		return src.List(ctx, root, fn)
	}
	keep := func(o Object) error {
		if span, ok := spanOf(o.Name); ok && !span.Overlaps(window) {
			return nil
		}
		return fn(o)
	}
	dl, ok := src.(DirLister)
	if !ok {
		return src.List(ctx, root, keep)
	}
	if span, ok := spanOf(root); ok && !span.Overlaps(window) {
		return nil
	}
	if !strings.HasSuffix(root, "/") {
		if st, ok := src.(Stater); ok {
			o, err := st.Stat(ctx, root)
			if err == nil {
				return keep(o)
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		root += "/"
	}
	w := &walker{src: src, dl: dl, window: window, keep: keep}
	return w.walk(ctx, root)
}

type walker struct {
	src    Source
	dl     DirLister
	window Span
	keep   func(Object) error
}

func (w *walker) walk(ctx context.Context, prefix string) error {
	var level []Object
	err := w.dl.ListDir(ctx, prefix, func(o Object) error {
		level = append(level, o)
		return nil
	})
	if err != nil {
		return err
	}
	// Sort for a lexical order across levels, and drop repeats: some
	// stores (gofakes3's s3mem) repeat a common prefix across pages.
	slices.SortFunc(level, func(a, b Object) int { return strings.Compare(a.Name, b.Name) })
	level = slices.CompactFunc(level, func(a, b Object) bool { return a.Name == b.Name })
	for _, o := range level {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !strings.HasSuffix(o.Name, "/") {
			if err := w.keep(o); err != nil {
				return err
			}
			continue
		}
		span, dated := spanOf(o.Name)
		switch {
		case !dated:
			err = w.walk(ctx, o.Name)
		case !span.Overlaps(w.window):
			continue
		case coversAll(w.window, span) || span.End.Sub(span.Start) <= hourSpan:
			err = w.src.List(ctx, o.Name, w.keep)
			if errors.Is(err, ErrNotFound) {
				err = nil // gone since it was listed
			}
		default:
			err = w.walk(ctx, o.Name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// hourSpan is the length KeySpan gives a directory of one hour (the hour
// plus a margin on each side); no layout has directories finer than that.
// margin is that margin, which KeySpan adds to every key.
var hourSpan, margin = func() (time.Duration, time.Duration) {
	s, _ := KeySpan("2000/01/01/00/")
	d := s.End.Sub(s.Start)
	return d, (d - time.Hour) / 2
}()

// coversAll reports whether every object under a directory with the given
// span overlaps window, so that listing the directory flat wastes nothing.
// The directory's own dates are span without its margins; an object under
// it covers at least a few minutes of them and gets the same margins. So
// the first object overlaps window if window starts before the directory's
// dates start plus one margin, and the last if window ends after they end
// minus one margin.
func coversAll(window, span Span) bool {
	return (window.Start.IsZero() || !span.Start.Add(2*margin).Before(window.Start)) &&
		(window.End.IsZero() || !span.End.Add(-2*margin).After(window.End))
}

// spanOf is KeySpan of the key part of an object name: without
// "scheme://authority/", so a bucket or account named like a year is not
// taken for one.
func spanOf(name string) (Span, bool) {
	return KeySpan(KeyOf(name))
}

// KeyOf returns the part of an object name below its bucket: the key of
// "s3://bucket/key", "container/key" of "azblob://account/container/key".
// A local path is returned as it is.
func KeyOf(name string) string {
	i := strings.Index(name, "://")
	if i < 0 {
		return name
	}
	rest := name[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return rest[j+1:]
	}
	return ""
}
