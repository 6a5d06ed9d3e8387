package normalize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"unsafe"

	"github.com/flowsym/flowsym/normalize/schema"
)

// AWSText parses AWS VPC and Transit Gateway flow logs in text form: the
// gzip objects AWS delivers to S3 (a header line, then one record per
// line), and headerless exports from CloudWatch Logs or Firehose, whose
// lines may be wrapped in a {"message": ...} envelope.
type AWSText struct {
	// Headerless is the format of lines that come before any header line.
	// Nil means the version 2 default format.
	Headerless *AWSFormat
}

var _ Parser = (*AWSText)(nil)

// awsObject is the state of one object being parsed.
type awsObject struct {
	in     *Input
	b      *schema.Builder
	format *AWSFormat
	kind   string
	fields fieldSpans
}

// Parse implements Parser.
func (p *AWSText) Parse(ctx context.Context, in *Input, b *schema.Builder) error {
	o := &awsObject{in: in, b: b}
	if err := o.setFormat(p.headerless(), false); err != nil {
		return err
	}
	lr := newLineReader(in.R)
	for {
		line, n, err := lr.next()
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errLineTooLong):
			if err := in.problem(n, lineErr(ErrMalformed, "%v", err)); err != nil {
				return err
			}
			continue
		case err != nil:
			return damaged(n, err)
		}
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := o.line(line, n); err != nil {
			return err
		}
	}
}

func (p *AWSText) headerless() *AWSFormat {
	if p.Headerless != nil {
		return p.Headerless
	}
	f, _ := ParseAWSFormat("v2")
	return f
}

// damaged describes a read error that cut the object after line n.
func damaged(n int64, err error) error {
	return fmt.Errorf("%w: read failed after line %d: %w", ErrDamaged, n, err)
}

func (o *awsObject) setFormat(f *AWSFormat, fromHeader bool) error {
	o.format, o.kind = f, f.Kind()
	o.b.Fixed(schema.Cloud, "aws")
	o.b.Fixed(schema.LogKind, o.kind)
	if fromHeader && len(f.Unknown()) > 0 {
		return o.in.problem(0, fmt.Errorf("%w: header names fields flowsym does not know, ignored: %v", ErrUnknownField, f.Unknown()))
	}
	return nil
}

// line handles one line: blank, a header, an envelope, or a record.
func (o *awsObject) line(line []byte, n int64) error {
	o.fields.splitBlanks(line)
	if o.fields.n == 0 {
		return nil
	}
	if line[0] == '{' {
		return o.envelope(line, n)
	}
	// A header is the first line of an S3 object; a later one appears where
	// objects were concatenated. Only a line whose first token is a field
	// name can be one, which keeps the test off the hot path.
	if c := o.fields.field(0)[0]; c >= 'a' && c <= 'z' && isAWSHeader(o.fields.all()) {
		f, err := ParseAWSFormat(string(line))
		if err != nil {
			return o.in.problem(n, lineErr(ErrMalformed, "bad header line: %v", err))
		}
		return o.setFormat(f, true)
	}
	if err := o.record(n); err != nil {
		o.b.Discard()
		return o.in.problem(n, err)
	}
	return o.b.Commit()
}

// record stages the fields of o.tokens. It returns a cause on bad input.
func (o *awsObject) record(n int64) error {
	fields := o.format.fields
	if n := o.fields.n; n != len(fields) {
		return lineErr(ErrMalformed, "has %d fields, the format has %d (%s)%s",
			n, len(fields), abbreviate(o.format.String()), formatHint(n))
	}
	// ParseAWSFormat caps a format at maxLineFields, so these slices hold;
	// indexing them rather than o.fields spares a bounds check per field.
	starts, ends := o.fields.start[:len(fields)], o.fields.end[:len(fields)]
	line, b := o.fields.line, o.b
	for i := range fields {
		tok := line[starts[i]:ends[i]:ends[i]]
		if len(tok) == 1 && tok[0] == '-' {
			continue
		}
		f := &fields[i]
		if f.conv >= convPort && f.conv <= convEpoch {
			// Numbers are most fields of most formats: parse and stage
			// them here rather than through setAWSField's switch, and
			// leave messages about their range to setAWSInt.
			v, ok := parseUint(tok)
			nc := numConvs[f.conv]
			switch {
			case !ok || v > math.MaxInt64:
				return badField(f.name, tok, "not a non-negative integer")
			case v > uint64(nc.limit):
				return setAWSInt(b, f, int64(v), tok)
			}
			b.Int(f.col, int64(v)*nc.scale)
			continue
		}
		if err := setAWSField(b, f, tok); err != nil {
			return err
		}
	}
	// A regional NAT gateway logs "-" as interface-id and names itself in
	// resource-id: it is still the observer.
	if !b.IsSet(schema.Observer) {
		if id, ok := b.Staged(schema.ResourceID); ok {
			b.Str(schema.Observer, id)
		}
	}
	b.Int(schema.SourceLine, n)
	return nil
}

func formatHint(n int) string {
	switch n {
	case 14:
		return "; a 14-field line is the default format: try --aws-format v2"
	case 36:
		return "; a 36-field line is the Transit Gateway default format: try --aws-format tgw"
	}
	return ""
}

func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// maxEpochSeconds is 9999-12-31T23:59:59Z; later times are garbage.
const maxEpochSeconds = 253402300799

func setAWSField(b *schema.Builder, f *awsField, tok []byte) error {
	switch f.conv {
	case convSkip:
		return nil
	case convStr:
		b.Bytes(f.col, tok)
	case convLabel:
		b.Label(f.name, unsafe.String(unsafe.SliceData(tok), len(tok)))
	case convTag:
		v, err := url.PathUnescape(string(tok))
		if err != nil {
			v = string(tok)
		}
		b.Label(f.name, v)
	case convAddr:
		a, ok := parseAddrBytes(tok)
		if !ok {
			return badField(f.name, tok, "not an IP address")
		}
		b.Addr16(f.col, a)
	case convAction:
		return setEnum(b, f, tok, "ACCEPT", "accept", "REJECT", "reject")
	case convStatus:
		switch string(tok) {
		case "OK":
			b.Str(f.col, "ok")
		case "NODATA":
			b.Str(f.col, "nodata")
		case "SKIPDATA":
			b.Str(f.col, "skipdata")
		default:
			return badField(f.name, tok, "want OK, NODATA or SKIPDATA")
		}
	case convDirection:
		return setEnum(b, f, tok, "ingress", "ingress", "egress", "egress")
	default:
		return setAWSNumber(b, f, tok)
	}
	return nil
}

func setEnum(b *schema.Builder, f *awsField, tok []byte, in1, out1, in2, out2 string) error {
	switch string(tok) {
	case in1:
		b.Str(f.col, out1)
	case in2:
		b.Str(f.col, out2)
	default:
		return badField(f.name, tok, "want "+in1+" or "+in2)
	}
	return nil
}

func setAWSNumber(b *schema.Builder, f *awsField, tok []byte) error {
	v, ok := parseUint(tok)
	if !ok || v > math.MaxInt64 {
		return badField(f.name, tok, "not a non-negative integer")
	}
	return setAWSInt(b, f, int64(v), tok)
}

// numConv says of each numeric conv its largest value and what to
// multiply it by for its column (Unix seconds become microseconds); the
// other convs have a zero limit. A table, not a switch, because every
// number of every record goes through it.
type numConv struct{ limit, scale int64 }

var numConvs = [convTag + 1]numConv{
	convPort:  {65535, 1},
	convProto: {255, 1},
	convSmall: {math.MaxInt32, 1},
	convEpoch: {maxEpochSeconds, 1_000_000},
	convCount: {math.MaxInt64, 1},
}

// setAWSInt checks a number's range for its field and stages it. tok is
// the text it came from, for the error message (nil for Parquet values).
func setAWSInt(b *schema.Builder, f *awsField, v int64, tok []byte) error {
	nc := numConvs[f.conv]
	if nc.limit == 0 {
		// A Parquet writer other than AWS may store an id as a number.
		return setAWSField(b, f, []byte(strconv.FormatInt(v, 10)))
	}
	if v < 0 || v > nc.limit {
		if tok == nil {
			tok = []byte(strconv.FormatInt(v, 10))
		}
		return badField(f.name, tok, fmt.Sprintf("out of range (0 to %d)", nc.limit))
	}
	b.Int(f.col, v*nc.scale)
	return nil
}

func badField(name string, tok []byte, why string) error {
	const maxShown = 40
	if len(tok) > maxShown {
		tok = append(tok[:maxShown:maxShown], "..."...)
	}
	return lineErr(ErrMalformed, "field %s: %q: %s", name, tok, why)
}

// envelope unwraps the JSON that CloudWatch Logs exports and Firehose
// deliveries put around records: {"message": "<record>"} per line, or a
// CloudWatch Logs subscription document with logEvents[].message. Firehose
// may concatenate several such objects on one line.
func (o *awsObject) envelope(line []byte, n int64) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	for {
		var env struct {
			Message     *string `json:"message"`
			MessageType string  `json:"messageType"`
			LogEvents   []struct {
				Message string `json:"message"`
			} `json:"logEvents"`
		}
		err := dec.Decode(&env)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return o.in.problem(n, lineErr(ErrMalformed, "bad JSON envelope: %v", err))
		}
		if env.MessageType == "CONTROL_MESSAGE" {
			continue // CloudWatch Logs checking that the destination is alive
		}
		msgs := make([]string, 0, len(env.LogEvents)+1)
		if env.Message != nil {
			msgs = append(msgs, *env.Message)
		}
		for _, e := range env.LogEvents {
			msgs = append(msgs, e.Message)
		}
		if len(msgs) == 0 {
			if err := o.in.problem(n, lineErr(ErrMalformed, "JSON line has no message field")); err != nil {
				return err
			}
		}
		for _, m := range msgs {
			if err := o.wrapped([]byte(m), n); err != nil {
				return err
			}
		}
	}
}

// wrapped handles one record taken out of an envelope.
func (o *awsObject) wrapped(msg []byte, n int64) error {
	o.fields.splitBlanks(msg)
	if o.fields.n == 0 || msg[0] == '{' {
		return o.in.problem(n, lineErr(ErrMalformed, "envelope message is not a flow-log record"))
	}
	if err := o.record(n); err != nil {
		o.b.Discard()
		return o.in.problem(n, err)
	}
	return o.b.Commit()
}
