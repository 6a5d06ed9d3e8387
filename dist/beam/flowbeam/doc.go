// Package flowbeam runs flowsym's analysis as an Apache Beam pipeline, so
// that estates too large for one machine run on Dataflow, Flink or Spark
// (or on Prism, Beam's local runner) with the CLI's own code: the same
// decoders, the same per-connection summary, the same judge. It only
// wires them into Beam transforms; nothing in it decides anything.
//
//	inputs ──list (ingest.ListWindow)──▶ objects ──Reshuffle──▶
//	  decode (normalize.Decoder into a correlate.Correlator per bundle;
//	          flows/ through export.AnalysisWriter) ──Drain──▶
//	  ┬─ KV<key, ConnState>   ──CombinePerKey(ConnState.Merge)──▶ merged connections
//	  └─ KV<observer, Observer> ─CombinePerKey(Observer.Merge)──▶ merged observers ─┐ side input
//	merged connections ──AddPopular, Sum, ≥ MinPopular──▶ popular endpoints ─────────┤ side input
//	merged connections ──judge (correlate.Judge.Verdicts)──▶ findings, connections/, findings/
//	findings ──GroupByKey(shard)──▶ sort (CompareFindings), report.JSON
//	every file written under _temporary/ ──Reshuffle──▶ rename into place ──▶ finalize
//
// Each decode bundle folds the records of all its objects into one
// correlator before it hands its state over, so a worker ships one partial
// state per key and bundle; runners that lift combines (Prism, Dataflow)
// merge them again before the shuffle, and a key's partials merge
// pairwise after it. A hot key costs one summary, never its records.
//
// Outputs are written the way Beam's own file sinks are: every bundle
// writes its files under <root>/_temporary/<run>/, the names travel
// downstream, and only after the runner has committed the bundle are they
// renamed into place, in parallel; a retried bundle's files are never
// renamed, and finalize removes what is left. So a reader never sees a
// partial file, and no single worker writes all the output.
//
// Object stores: inputs are listed with flowsym's own stores (the
// date-pruned ListWindow the CLI uses, which Beam's glob listing cannot
// do), and read and written through Beam's file systems: Beam's s3:// and
// gs://, and azblobfs for azblob://.
package flowbeam
