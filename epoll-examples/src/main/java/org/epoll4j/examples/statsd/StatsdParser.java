package org.epoll4j.examples.statsd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Parses StatsD datagrams into {@link Metrics}: one metric per line,
 * {@code name:value|type[|@sample_rate][|#tags]}, several lines per datagram; several values for one name may share a
 * line ({@code name:1|c:2|c}, as some clients pack them). Malformed lines are counted and skipped, never fatal.
 */
final class StatsdParser {
    private StatsdParser() {
    }

    /** Parses every line of {@code datagram} (its remaining bytes) into {@code metrics}. */
    static void parse(ByteBuffer datagram, Metrics metrics) {
        byte[] b = new byte[datagram.remaining()];
        datagram.get(b);
        String text = new String(b, StandardCharsets.UTF_8);
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String line = text.substring(start, end).strip();
            if (!line.isEmpty()) {
                metrics.lines++;
                if (!line(line, metrics)) {
                    metrics.bad++;
                }
            }
            start = end + 1;
        }
    }

    /** One line; false if malformed. */
    static boolean line(String line, Metrics metrics) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        String name = sanitize(line.substring(0, colon));
        String[] samples = line.substring(colon + 1).split(":");
        boolean ok = true;
        for (String sample : samples) {
            ok &= sample(name, sample, metrics);
        }
        return ok;
    }

    private static boolean sample(String name, String sample, Metrics metrics) {
        String[] f = sample.split("\\|");
        if (f.length < 2 || f[0].isEmpty()) {
            return false;
        }
        double rate = 1;
        for (int i = 2; i < f.length; i++) {
            if (f[i].startsWith("@")) {
                try {
                    rate = Double.parseDouble(f[i].substring(1));
                } catch (NumberFormatException e) {
                    return false;
                }
                if (!(rate > 0 && rate <= 1)) {
                    return false;
                }
            } else if (!f[i].startsWith("#")) {
                return false;
            }
        }
        String value = f[0];
        String type = f[1];
        if (type.equals("s")) {
            metrics.set(name, value);
            return true;
        }
        double v;
        try {
            v = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            return false;
        }
        if (!Double.isFinite(v)) {
            return false;
        }
        switch (type) {
            case "c" -> metrics.counter(name, v, rate);
            case "g" -> metrics.gauge(name, v, value.charAt(0) == '+' || value.charAt(0) == '-');
            case "ms", "h", "d" -> metrics.timer(name, v, rate);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Graphite path-safe: spaces to '_', slashes to '-', anything but [A-Za-z0-9_.-] dropped (as statsd does). */
    static String sanitize(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ' ') {
                sb.append('_');
            } else if (c == '/') {
                sb.append('-');
            } else if (Character.isLetterOrDigit(c) && c < 128 || c == '_' || c == '.' || c == '-') {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
