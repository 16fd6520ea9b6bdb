// Prometheus text-format counters for /metrics; cheap enough to update on every request.
export class Metrics {
  private requests = new Map<string, number>();
  private durationSum = 0;
  private durationCount = 0;
  bytesIn = 0;
  bytesOut = 0;
  blobCommits = 0;
  manifestPuts = 0;
  uploadsPurged = 0;

  observe(method: string, route: string, status: number, seconds: number): void {
    const k = `method="${method}",route="${route}",code="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    this.durationSum += seconds;
    this.durationCount++;
  }

  render(gauges: Record<string, number>): string {
    const out: string[] = [];
    out.push('# HELP berth_registry_http_requests_total HTTP requests by method, route and status.');
    out.push('# TYPE berth_registry_http_requests_total counter');
    for (const [k, v] of this.requests) out.push(`berth_registry_http_requests_total{${k}} ${v}`);
    out.push('# HELP berth_registry_http_request_duration_seconds Request latency.');
    out.push('# TYPE berth_registry_http_request_duration_seconds summary');
    out.push(`berth_registry_http_request_duration_seconds_sum ${this.durationSum}`);
    out.push(`berth_registry_http_request_duration_seconds_count ${this.durationCount}`);
    const counters: [string, number, string][] = [
      ['berth_registry_bytes_received_total', this.bytesIn, 'Blob bytes received.'],
      ['berth_registry_bytes_sent_total', this.bytesOut, 'Blob bytes sent.'],
      ['berth_registry_blob_commits_total', this.blobCommits, 'Blob uploads committed.'],
      ['berth_registry_manifest_puts_total', this.manifestPuts, 'Manifests stored.'],
      ['berth_registry_uploads_purged_total', this.uploadsPurged, 'Abandoned upload sessions purged.'],
    ];
    for (const [n, v, h] of counters) out.push(`# HELP ${n} ${h}`, `# TYPE ${n} counter`, `${n} ${v}`);
    for (const [n, v] of Object.entries(gauges)) out.push(`# TYPE ${n} gauge`, `${n} ${v}`);
    return out.join('\n') + '\n';
  }
}
