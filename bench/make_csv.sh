#!/bin/sh
# Writes the CSV file of the reader benchmark (BENCHMARKS.md, "Reading
# CSV"): ROWS rows (default 500000) of 20 features and an integer label
# 0..9, from a fixed LCG, as pandas' to_csv(index=False) writes floats (a
# header 0,...,19,y; repr-like decimals), or with every field quoted
# (QUOTE=all, to_csv(quoting=csv.QUOTE_ALL)). Usage:
#   sh bench/make_csv.sh > /tmp/bench.csv
#   QUOTE=all sh bench/make_csv.sh > /tmp/bench-quoted.csv
awk -v rows="${ROWS:-500000}" -v quote="${QUOTE:-none}" 'BEGIN {
    q = quote == "all" ? "\"" : ""
    s = 12345
    line = ""
    for (j = 0; j < 20; j++)
        line = line q j q ","
    print line q "y" q
    for (i = 0; i < rows; i++) {
        line = ""
        for (j = 0; j < 20; j++) {
            s = (s * 1103515245 + 12345) % 2147483648
            line = line q sprintf("%.6g", (s / 2147483648 - 0.5) * 10 ^ (j % 4)) q ","
        }
        s = (s * 1103515245 + 12345) % 2147483648
        print line q int(s / 2147483648 * 10) q
    }
}'
