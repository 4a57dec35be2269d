// Package dashgen builds procagent's Grafana dashboards (dashboards/grafana/*.json) with the
// Grafana Foundation SDK. The committed JSON is what users import; `make dashboards`
// regenerates it and a test requires the committed files byte-identical to a fresh build.
//
// Panel descriptions quote the help text of the agent's metric families, read from the one
// names table, telemetry/names.go, so a dashboard says what the agent says about its metrics.
//
// The package's tests prove the dashboards and the Prometheus rules under dashboards/: Grafana's
// schema (strict decoding and Validate), the conventions Grafana's dashboard-linter enforces,
// metric names against the names table, promtool's checks and unit tests of the rules, the
// README's snippets against the files they name, and (TestE2EDashboardsLive) every panel's
// every query answered by a real Prometheus scraping the real agent under load.
//
// dashgen imports no package of this module: it reads the names table as source.
package dashgen
