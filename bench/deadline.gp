# Lateness CDF of bench_deadline: one curve per driving mode.
# Run by bench/rules.mk as: gnuplot -e "dir='build/bench'" bench/deadline.gp
if (!exists("dir")) dir = "build/bench"
set terminal pngcairo size 900,540 font ",10"
set output dir."/deadline.png"
set title "libaname: callback time − deadline, 1000 requests × reps, black-holed upstream"
set xlabel "lateness, ms (negative = early)"
set ylabel "share of requests"
set key right bottom
set grid
set yrange [0:1]
set xrange [-5:*]
set arrow from 20, graph 0 to 20, graph 1 nohead dt 2 lc rgb "red"
set label "goal: p99 ≤ 20 ms" at 20.5, 0.1 tc rgb "red"
plot dir."/deadline.dat" index 0 using 1:2 with lines lw 2 title "event loop, burst", \
     ''                  index 1 using 1:2 with lines lw 2 title "event loop, paced 1/ms", \
     ''                  index 2 using 1:2 with lines lw 2 title "thread mode, burst", \
     ''                  index 3 using 1:2 with lines lw 2 title "thread mode, paced 1/ms"
