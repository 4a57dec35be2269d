// Package exporters measures what watching N worker processes costs: the
// procagent binary (the workers are its exec actors), Debian's
// prometheus-node-exporter and prometheus-process-exporter (configured to
// name the workers), all started on loopback and measured side by side in
// one run: idle RSS and CPU, the CPU and latency of one scrape, the series
// per scrape, and the CPU of the agent's memory republish per worker.
//
// Every process it starts is killed when it ends, whatever happened; the
// workers carry a token unique to the run in their command line, and any
// process still carrying it at the end is killed by pid.
package exporters
