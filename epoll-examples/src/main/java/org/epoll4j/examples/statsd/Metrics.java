package org.epoll4j.examples.statsd;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The aggregation state of one flush interval, StatsD's semantics:
 * <ul>
 *   <li>counters ({@code c}): summed, each value divided by its sample rate; reported as {@code .count} and
 *       {@code .rate} (per second) and reset after each flush;</li>
 *   <li>gauges ({@code g}): the last value; a value written with a sign ({@code +3}, {@code -2}) changes the gauge
 *       by that much; kept across flushes;</li>
 *   <li>timers and histograms ({@code ms}, {@code h}, {@code d}): every value kept for the interval; reported as
 *       count (scaled by the sample rate), min, max, mean and the configured percentiles;</li>
 *   <li>sets ({@code s}): the number of distinct values seen in the interval.</li>
 * </ul>
 * Used on one reactor thread only.
 */
final class Metrics {
    private final Map<String, double[]> counters = new HashMap<>();
    private final Map<String, Double> gauges = new TreeMap<>();
    private final Map<String, Timer> timers = new HashMap<>();
    private final Map<String, Set<String>> sets = new HashMap<>();
    long lines;
    long bad;

    /** Values of one timer for one interval, and the count they stand for after sampling. */
    static final class Timer {
        double[] values = new double[8];
        int size;
        double count;

        void add(double v, double rate) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
            count += 1 / rate;
        }
    }

    void counter(String name, double value, double rate) {
        counters.computeIfAbsent(name, k -> new double[1])[0] += value / rate;
    }

    void gauge(String name, double value, boolean delta) {
        if (delta) {
            gauges.merge(name, value, Double::sum);
        } else {
            gauges.put(name, value);
        }
    }

    void timer(String name, double value, double rate) {
        timers.computeIfAbsent(name, k -> new Timer()).add(value, rate);
    }

    void set(String name, String member) {
        sets.computeIfAbsent(name, k -> new HashSet<>()).add(member);
    }

    /**
     * Writes the interval in Graphite's plaintext protocol ({@code path value timestamp}), sorted by path, and starts
     * a new interval (gauges stay).
     *
     * @param prefix      prepended to every path, e.g. {@code stats.}
     * @param intervalSec the interval's length in seconds, for rates
     * @param epochSec    the timestamp of every line
     * @param percentiles the percentiles to report for timers, e.g. 50, 90, 99
     * @return the lines, each ending in {@code \n}
     */
    String flush(String prefix, double intervalSec, long epochSec, int[] percentiles) {
        TreeMap<String, String> out = new TreeMap<>();
        counters.forEach((name, v) -> {
            out.put(prefix + "counters." + name + ".count", num(v[0]));
            out.put(prefix + "counters." + name + ".rate", num(v[0] / intervalSec));
        });
        gauges.forEach((name, v) -> out.put(prefix + "gauges." + name, num(v)));
        timers.forEach((name, t) -> {
            double[] v = Arrays.copyOf(t.values, t.size);
            Arrays.sort(v);
            double sum = 0;
            for (double x : v) {
                sum += x;
            }
            String p = prefix + "timers." + name + ".";
            out.put(p + "count", num(t.count));
            out.put(p + "count_ps", num(t.count / intervalSec));
            out.put(p + "min", num(v[0]));
            out.put(p + "max", num(v[v.length - 1]));
            out.put(p + "mean", num(sum / v.length));
            for (int pct : percentiles) {
                out.put(p + "p" + pct, num(percentile(v, pct)));
            }
        });
        sets.forEach((name, s) -> out.put(prefix + "sets." + name + ".count", Integer.toString(s.size())));
        counters.clear();
        timers.clear();
        sets.clear();
        StringBuilder sb = new StringBuilder();
        out.forEach((k, v) -> sb.append(k).append(' ').append(v).append(' ').append(epochSec).append('\n'));
        return sb.toString();
    }

    /** The nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, int pct) {
        int rank = (int) Math.ceil(pct / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** A number as Graphite takes it: integers without a fraction, others with up to 6 decimals. */
    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return new java.math.BigDecimal(v).setScale(6, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros()
                .toPlainString();
    }
}
