# nginx-complaints.awk SERIAL_LOG...: exit 1 when nginx complained in its log (an [alert], [crit],
# [emerg] or [error] line: an answer cut short shows there, and ab does not check bodies), 0 when
# it did not. Used by `./aegis bench` (bench_nginx); tested by Aegis.Tests/Host/BenchChecksTests.cs.
/\[(alert|crit|emerg|error)\]/ { found = 1; print "nginx complained: " $0 > "/dev/stderr" }
END { exit found ? 1 : 0 }
