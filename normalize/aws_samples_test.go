package normalize

import (
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flowsym/flowsym/internal/samples"
)

// The v2..v5 table order (29 fields) that the Elastic synthetic samples
// use without a header, as ../shared/samples/SOURCES.md describes.
const v5TableOrder = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
	"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id " +
	"pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"

const ecsFields = " ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id " +
	"ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id"

// TestAWSSamples parses every AWS sample file with exact record counts and
// checks of field values taken from the files and their documentation.
func TestAWSSamples(t *testing.T) {
	cases := []struct {
		file   string
		format string // --aws-format for headerless files
		rows   int
		check  map[int]map[string]string // row index -> expected columns
	}{
		{
			file: "aws-docs-v2-default-examples.log", rows: 7,
			check: map[int]map[string]string{
				0: {"cloud": "aws", "log_kind": "aws-vpc", "log_version": "2", "account": "123456789010", "observer": "eni-1235b8ca123456789",
					"src_addr": "172.31.16.139", "dst_addr": "172.31.16.21", "src_port": "20641", "dst_port": "22", "protocol": "6",
					"packets": "20", "bytes": "4249", "start_time": "2014-12-14T04:06:50Z", "end_time": "2014-12-14T04:07:50Z",
					"action": "accept", "log_status": "ok", "direction": "", "source_line": "1"},
				1: {"action": "reject", "dst_port": "3389"},
				2: {"log_status": "nodata", "src_addr": "", "dst_addr": "", "src_port": "", "packets": "", "action": "",
					"start_time": "2015-05-10T18:01:16Z", "end_time": "2015-05-10T18:02:14Z", "observer": "eni-1235b8ca123456789"},
				3: {"log_status": "skipdata", "observer": "eni-11111111aaaaaaaaa", "bytes": ""},
				4: {"protocol": "1", "src_port": "0", "dst_port": "0", "packets": "4", "bytes": "336", "action": "accept"},
				5: {"protocol": "1", "action": "reject", "src_addr": "172.31.16.139"},
				6: {"src_addr": "2001:db8:1234:a100:8d6e:3477:df66:f105", "dst_addr": "2001:db8:1234:a102:3304:8879:34cf:4071",
					"start_time": "2016-10-31T11:35:08Z", "source_line": "7"},
			},
		},
		{
			file: "aws-docs-v3-tcp-flag-sequence-custom.log", rows: 8,
			check: map[int]map[string]string{
				0: {"log_version": "3", "network": "vpc-abcdefab012345678", "subnet": "subnet-aaaaaaaa012345678", "instance": "i-01234567890123456",
					"observer": "eni-1235b8ca123456789", "labels": "type=IPv4", "src_addr": "52.213.180.42", "pkt_src_addr": "52.213.180.42",
					"bytes": "568", "packets": "8", "tcp_flags": "2", "source_line": "2", "start_time": "2019-08-26T19:47:55Z"},
				1: {"tcp_flags": "18", "src_port": "5001"},
				5: {"bytes": "23294588", "packets": "15774", "tcp_flags": "1"},
				// The last line has a double space, as in the AWS document.
				7: {"tcp_flags": "19", "dst_port": "43638", "pkt_src_addr": "10.0.0.62", "source_line": "9", "start_time": "2019-08-27T19:12:13Z"},
			},
		},
		{
			file: "aws-docs-nat-gateway-custom.log", rows: 6,
			check: map[int]map[string]string{
				0: {"instance": "", "observer": "eni-1235b8ca123456789", "src_addr": "10.0.1.5", "dst_addr": "10.0.0.220",
					"pkt_src_addr": "10.0.1.5", "pkt_dst_addr": "203.0.113.5", "log_version": "", "start_time": "", "packets": ""},
				3: {"src_addr": "10.0.0.220", "dst_addr": "10.0.1.5", "pkt_src_addr": "203.0.113.5", "pkt_dst_addr": "10.0.1.5"},
				4: {"instance": "i-01234567890123456", "observer": "eni-1111aaaa2222bbbb3", "dst_addr": "203.0.113.5"},
			},
		},
		{
			file: "aws-docs-tgw-eni-custom-v3.log", rows: 4,
			check: map[int]map[string]string{
				0: {"log_kind": "aws-vpc", "observer": "eni-33333333333333333", "tcp_flags": "3", "action": "accept", "log_status": "ok"},
				2: {"observer": "eni-11111111111111111", "instance": "", "src_addr": "10.40.1.175", "pkt_src_addr": "10.20.33.164"},
				3: {"observer": "eni-22222222222222222", "dst_addr": "10.40.2.31", "pkt_dst_addr": "10.20.33.164", "tcp_flags": "19"},
			},
		},
		{
			file: "aws-docs-v5-service-traffic-path-custom.log", rows: 2,
			check: map[int]map[string]string{
				0: {"log_version": "5", "region": "ap-southeast-2", "zone": "apse2-az3", "pkt_src_aws_service": "S3",
					"pkt_dst_aws_service": "", "traffic_path": "", "direction": "ingress", "packets": "14", "bytes": "15044",
					"start_time": "2021-03-26T03:28:12Z", "end_time": "2021-03-26T03:29:09Z", "instance": "i-0c50d5961bcb2d47b"},
				1: {"pkt_dst_aws_service": "S3", "traffic_path": "8", "direction": "egress", "tcp_flags": "3"},
			},
		},
		{
			file: "elastic-integrations-tgw-v6-default-format-synthetic.log", format: "tgw", rows: 10,
			check: map[int]map[string]string{
				0: {"log_kind": "aws-tgw", "log_version": "3", "account": "748335378900", "tgw_id": "tgw-0a12bc34de56f7890",
					"observer": "tgw-attach-0789ijkl", "src_addr": "1.128.0.0", "dst_addr": "2a02:cf40::", "src_port": "39464",
					"dst_port": "22", "protocol": "6", "packets": "49", "bytes": "8947", "log_status": "skipdata", "direction": "ingress",
					"action": "", "tgw_pair_attachment": "", "start_time": "2025-08-19T08:35:33Z", "end_time": "2025-08-19T08:35:58Z",
					"labels": "tgw-dst-eni=eni-0cc3dd4ee5f66aa7b tgw-dst-vpc-id=vpc-0ghi9012 tgw-src-eni=eni-0cc3dd4ee5f66aa7b tgw-src-vpc-id=vpc-0jkl5678"},
				1: {"log_status": "nodata", "protocol": "17", "observer": "tgw-attach-0456efgh"},
				9: {"src_addr": "2a02:cf40::", "dst_addr": "175.16.199.0", "source_line": "10"},
			},
		},
		{
			file: "elastic-integrations-v7-ecs-synthetic.log", format: v5TableOrder + ecsFields, rows: 10,
			check: map[int]map[string]string{
				0: {"observer": "", "account": "000000000000", "src_addr": "1.128.0.0", "dst_addr": "2a02:cf40::", "protocol": "17",
					"action": "reject", "log_status": "ok", "direction": "ingress", "start_time": "2025-08-20T08:30:19Z",
					"labels": "ecs-cluster-arn=arn:aws:ecs:us-east-1:000000000000:cluster/frontend-cluster ecs-cluster-name=frontend-cluster " +
						"ecs-container-id=574fc0af-908 ecs-container-instance-arn=arn:aws:ecs:us-east-1:000000000000:container-instance/frontend-cluster/i-82bfd814a3c34e21a " +
						"ecs-container-instance-id=i-82bfd814a3c34e21a ecs-second-container-id=816bc224-160 ecs-service-name=payments-service " +
						"ecs-task-arn=arn:aws:ecs:us-east-1:000000000000:task/frontend-cluster/6adbd0d6-211 " +
						"ecs-task-definition-arn=arn:aws:ecs:us-east-1:000000000000:task-definition/backend:3 ecs-task-id=6adbd0d6-211"},
				1: {"action": "accept", "log_status": "nodata", "direction": "egress", "dst_port": "3306"},
			},
		},
		{
			file: "elastic-integrations-v8-reject-reason-synthetic.log", format: v5TableOrder + ecsFields + " reject-reason", rows: 1,
			check: map[int]map[string]string{
				0: {"reject_reason": "BPA", "action": "reject", "log_status": "nodata", "src_addr": "2a02:cf40::"},
			},
		},
		{
			file: "elastic-integrations-v5-all-fields-synthetic.log", format: v5TableOrder, rows: 1,
			check: map[int]map[string]string{
				// A 9-digit start (1975) is odd but valid; there is no trailing newline.
				0: {"log_version": "5", "account": "64111117617", "observer": "eni-069xxxxxb7a490", "start_time": "1975-03-14T03:34:26Z",
					"end_time": "2021-12-20T11:38:17Z", "action": "reject", "tcp_flags": "1", "pkt_dst_addr": "10.200.0.80",
					"pkt_src_aws_service": "AMAZON", "pkt_dst_aws_service": "CLOUDFRONT", "direction": "ingress", "traffic_path": "1",
					"zone": "use1-az5", "region": "us-east-1", "labels": "type=IPv4"},
			},
		},
		{
			file: "elastic-integrations-cwl-message-wrapped-nodata.json", rows: 1,
			check: map[int]map[string]string{
				0: {"log_status": "nodata", "observer": "eni-0e0bf7be352692297", "account": "428961148399",
					"start_time": "2022-12-14T14:54:58Z", "end_time": "2022-12-14T14:55:28Z", "source_line": "1"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			var opts Options
			if tc.format != "" {
				f, err := ParseAWSFormat(tc.format)
				if err != nil {
					t.Fatal(err)
				}
				opts.AWSHeaderless = f
			}
			name := "aws/" + tc.file
			got := decode(t, opts, name, readFile(t, samples.Path(t, filepath.Join("aws", tc.file))))
			if got.err != nil || len(got.problems) > 0 {
				t.Fatalf("err %v, problems %q", got.err, got.problems)
			}
			if len(got.rows) != tc.rows {
				t.Fatalf("got %d rows, want %d", len(got.rows), tc.rows)
			}
			for i, cols := range tc.check {
				t.Run("row"+string(rune('0'+i)), func(t *testing.T) { want(t, got.rows[i], cols) })
			}
			for _, r := range got.rows {
				if r["source_object"] != name {
					t.Errorf("source_object = %q", r["source_object"])
				}
			}
		})
	}
}

// TestAWSElasticTestCases runs every format/sample pair of the Elastic
// Beats processor test file: each sample is one record under its format.
func TestAWSElasticTestCases(t *testing.T) {
	data := readFile(t, samples.Path(t, "aws/elastic-beats-aws-vpcflow-processor-testcases.yml"))
	var cases map[string]struct {
		Format  string   `yaml:"format"`
		Samples []string `yaml:"samples"`
	}
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 14 {
		t.Fatalf("found %d test cases, want 14", len(cases))
	}
	total := 0
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := ParseAWSFormat(tc.Format)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Unknown()) > 0 {
				t.Errorf("format has fields flowsym does not know: %v", f.Unknown())
			}
			got := decode(t, Options{AWSHeaderless: f}, "cases/"+name, []byte(strings.Join(tc.Samples, "\n")))
			if got.err != nil || len(got.problems) > 0 {
				t.Fatalf("err %v, problems %q", got.err, got.problems)
			}
			if len(got.rows) != len(tc.Samples) {
				t.Fatalf("got %d rows from %d samples", len(got.rows), len(tc.Samples))
			}
			for i, s := range tc.Samples {
				tokens := strings.Fields(s)
				// The source address is echoed wherever the format has one.
				for j, fld := range strings.Fields(f.String()) {
					if fld == "srcaddr" && tokens[j] != "-" && got.rows[i]["src_addr"] != tokens[j] {
						t.Errorf("sample %d: src_addr %q, want %q", i, got.rows[i]["src_addr"], tokens[j])
					}
				}
			}
		})
		total += len(tc.Samples)
	}
	if total != 36 {
		t.Errorf("the test cases hold %d samples, want 36", total)
	}
}
