# nginx-kept-alive.awk AB_OUTPUT...: exit 0 when every `ab -k` run in the input kept its requests on
# keep-alive connections, 1 otherwise (or when there is no run). A run may have as many requests
# off keep-alive as nginx closes connections: one at every keepalive_requests-th request (nginx's
# default, 1000, which /etc/nginx/nginx.conf keeps) and one at the end. Used by `./aegis bench`
# (bench_nginx); tested by Aegis.Tests/Host/BenchChecksTests.cs.
BEGIN { keepalive_requests = 1000 }
/^ *Complete requests:/ { complete = $3 }
/^ *Keep-Alive requests:/ {
    runs++
    if ($3 + int(complete / keepalive_requests) + 1 < complete) bad = 1
}
END { exit (runs > 0 && !bad) ? 0 : 1 }
