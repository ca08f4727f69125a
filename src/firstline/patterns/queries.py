"""Metric queries shared by several patterns. A query's `name` is the contract with scenario
bundles (metrics are keyed by it) and with reports; its PromQL is what a real Prometheus
source runs. Placeholders ($namespace, $service, $pod, $instance, $node, $job) are
filled with escaped alert label values."""

from __future__ import annotations

from firstline.domain.query import MetricQuery

_SVC = 'namespace="$namespace",service="$service"'
_POD = 'namespace="$namespace",pod=~"$service-.*"'

ERROR_RATE = MetricQuery(
    name="error_rate",
    unit="ratio",
    # a service that never failed has no 5xx series at all: the ratio is then 0, not
    # missing, or the healthy baseline before a bad rollout vanishes from the evidence
    promql=(
        f'(sum(rate(http_requests_total{{{_SVC},code=~"5.."}}[5m])) or on() vector(0))'
        f" / sum(rate(http_requests_total{{{_SVC}}}[5m]))"
    ),
    description="Share of requests answered with 5xx.",
)
LATENCY_P99 = MetricQuery(
    name="latency_p99",
    unit="seconds",
    promql=(
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{_SVC}}}[5m])))"
    ),
    description="99th percentile request latency.",
)
REQUEST_RATE = MetricQuery(
    name="request_rate",
    unit="req/s",
    promql=f"sum(rate(http_requests_total{{{_SVC}}}[5m]))",
    description="Requests per second.",
)
MEMORY_WORKING_SET = MetricQuery(
    name="memory_working_set",
    unit="bytes",
    promql=f'max(container_memory_working_set_bytes{{{_POD},container!=""}})',
    description="Largest container working set of the workload's pods.",
)
MEMORY_LIMIT = MetricQuery(
    name="memory_limit",
    unit="bytes",
    promql=f'max(kube_pod_container_resource_limits{{{_POD},resource="memory"}})',
)
CPU_USAGE = MetricQuery(
    name="cpu_usage",
    unit="cores",
    promql=f"sum(rate(container_cpu_usage_seconds_total{{{_POD}}}[5m]))",
)
CPU_THROTTLED = MetricQuery(
    name="cpu_throttled_ratio",
    unit="ratio",
    promql=(
        f"sum(rate(container_cpu_cfs_throttled_periods_total{{{_POD}}}[5m]))"
        f" / sum(rate(container_cpu_cfs_periods_total{{{_POD}}}[5m]))"
    ),
)
RESTARTS = MetricQuery(
    name="restarts",
    unit="restarts",
    promql=f"sum(increase(kube_pod_container_status_restarts_total{{{_POD}}}[15m]))",
)
NODE_CPU = MetricQuery(
    name="node_cpu_utilisation",
    unit="ratio",
    promql='1 - avg(rate(node_cpu_seconds_total{mode="idle",instance=~"$instance.*"}[5m]))',
)

# --- databases (PostgreSQL / RDS / Aurora PostgreSQL) --------------------------------------
# Two sources are tried in order, joined by `or`: postgres_exporter (and node-exporter on the
# database host, selected by the exporter's `instance`), then CloudWatch RDS metrics as YACE
# exports them (`aws_rds_<metric>_<stat>`, dimension label `dimension_DBInstanceIdentifier`,
# matched against the alert's instance or service). CloudWatch percentages and milliseconds
# are converted to ratios and seconds.

_PG = 'instance="$instance"'
_HOST = 'instance=~"$instance.*"'
_RDS = 'dimension_DBInstanceIdentifier=~"$instance|$service"'

DB_CONNECTIONS = MetricQuery(
    name="db_connections",
    unit="connections",
    promql=(
        f"sum(pg_stat_activity_count{{{_PG}}})"
        f" or max(aws_rds_database_connections_average{{{_RDS}}})"
    ),
    description="Sessions connected to the database server (all states).",
)
DB_MAX_CONNECTIONS = MetricQuery(
    name="db_max_connections",
    unit="connections",
    promql=f"max(pg_settings_max_connections{{{_PG}}})",
    description="The server's max_connections setting.",
)
DB_CPU_UTILISATION = MetricQuery(
    name="db_cpu_utilisation",
    unit="ratio",
    promql=(
        f'1 - avg(rate(node_cpu_seconds_total{{{_HOST},mode="idle"}}[5m]))'
        f" or max(aws_rds_cpuutilization_average{{{_RDS}}}) / 100"
    ),
    description="CPU busy ratio (0-1) of the database host or instance.",
)
DB_FREE_STORAGE = MetricQuery(
    name="db_free_storage",
    unit="bytes",
    promql=(
        f"min(aws_rds_free_storage_space_average{{{_RDS}}})"
        ' or min(kubelet_volume_stats_available_bytes{namespace="$namespace",'
        'persistentvolumeclaim=~".*$service.*"})'
        f' or min(node_filesystem_avail_bytes{{{_HOST},mountpoint=~".*(pgdata|postgres).*"}})'
    ),
    description="Free space on the database's data volume.",
)
DB_REPLICA_LAG = MetricQuery(
    name="db_replica_lag",
    unit="seconds",
    promql=(
        f"max(pg_replication_lag_seconds{{{_PG}}})"
        f" or max(pg_replication_lag{{{_PG}}})"
        f" or max(aws_rds_replica_lag_average{{{_RDS}}})"
        f" or max(aws_rds_aurora_replica_lag_average{{{_RDS}}}) / 1000"
    ),
    description="How far the replica's replay is behind its primary.",
)
DB_READ_IOPS = MetricQuery(
    name="db_read_iops",
    unit="ops/s",
    promql=(
        f"sum(rate(node_disk_reads_completed_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_read_iops_average{{{_RDS}}})"
    ),
)
DB_WRITE_IOPS = MetricQuery(
    name="db_write_iops",
    unit="ops/s",
    promql=(
        f"sum(rate(node_disk_writes_completed_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_write_iops_average{{{_RDS}}})"
    ),
)
DB_READ_LATENCY = MetricQuery(
    name="db_read_latency",
    unit="seconds",
    promql=(
        f"sum(rate(node_disk_read_time_seconds_total{{{_HOST}}}[5m]))"
        f" / sum(rate(node_disk_reads_completed_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_read_latency_average{{{_RDS}}})"
    ),
    description="Average time per read I/O on the database's storage.",
)
DB_WRITE_LATENCY = MetricQuery(
    name="db_write_latency",
    unit="seconds",
    promql=(
        f"sum(rate(node_disk_write_time_seconds_total{{{_HOST}}}[5m]))"
        f" / sum(rate(node_disk_writes_completed_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_write_latency_average{{{_RDS}}})"
    ),
    description="Average time per write I/O on the database's storage.",
)
DB_DISK_QUEUE_DEPTH = MetricQuery(
    name="db_disk_queue_depth",
    unit="requests",
    promql=(
        f"sum(rate(node_disk_io_time_weighted_seconds_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_disk_queue_depth_average{{{_RDS}}})"
    ),
    description="I/O requests waiting for the disk.",
)
DB_FREEABLE_MEMORY = MetricQuery(
    name="db_freeable_memory",
    unit="bytes",
    promql=(
        f"min(node_memory_MemAvailable_bytes{{{_HOST}}})"
        f" or min(aws_rds_freeable_memory_average{{{_RDS}}})"
    ),
)
DB_SWAP_USAGE = MetricQuery(
    name="db_swap_usage",
    unit="bytes",
    promql=(
        f"max(node_memory_SwapTotal_bytes{{{_HOST}}} - node_memory_SwapFree_bytes{{{_HOST}}})"
        f" or max(aws_rds_swap_usage_average{{{_RDS}}})"
    ),
)
DB_TRANSACTION_LOG_GENERATION = MetricQuery(
    name="db_transaction_log_generation",
    unit="bytes/s",
    promql=(
        f"sum(rate(pg_stat_wal_wal_bytes{{{_PG}}}[5m]))"
        f" or max(aws_rds_transaction_logs_generation_average{{{_RDS}}})"
    ),
    description="WAL written per second (pg_stat_wal.wal_bytes; RDS TransactionLogsGeneration).",
)
DB_TRANSACTION_IDS_USED = MetricQuery(
    name="db_transaction_ids_used",
    unit="xids",
    promql=(
        f"max(pg_database_age_datfrozenxid{{{_PG}}})"
        f" or max(aws_rds_maximum_used_transaction_ids_average{{{_RDS}}})"
    ),
    description="Age of the oldest unfrozen transaction id (wraparound at ~2.1 billion).",
)
DB_WRITE_THROUGHPUT = MetricQuery(
    name="db_write_throughput",
    unit="bytes/s",
    promql=(
        f"sum(rate(node_disk_written_bytes_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_write_throughput_average{{{_RDS}}})"
    ),
)
DB_READ_THROUGHPUT = MetricQuery(
    name="db_read_throughput",
    unit="bytes/s",
    promql=(
        f"sum(rate(node_disk_read_bytes_total{{{_HOST}}}[5m]))"
        f" or max(aws_rds_read_throughput_average{{{_RDS}}})"
    ),
)
DB_COMMIT_LATENCY = MetricQuery(
    name="db_commit_latency",
    unit="seconds",
    promql=f"max(aws_rds_commit_latency_average{{{_RDS}}}) / 1000",
    description="Time a commit waits for its WAL to be durable (Aurora CommitLatency).",
)
DB_CHECKPOINTS = MetricQuery(
    name="db_checkpoints",
    unit="checkpoints/s",
    promql=(
        f"sum(rate(pg_stat_bgwriter_checkpoints_req_total{{{_PG}}}[5m]))"
        f" + sum(rate(pg_stat_bgwriter_checkpoints_timed_total{{{_PG}}}[5m]))"
    ),
    description="Checkpoints per second, requested plus timed (pg_stat_bgwriter).",
)
