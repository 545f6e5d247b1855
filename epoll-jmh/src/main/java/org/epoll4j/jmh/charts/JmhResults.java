package org.epoll4j.jmh.charts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The rows of a JMH JSON result file ({@code -rf json -rff FILE}) that the charts need. */
public final class JmhResults {
    private final List<Row> rows;

    private JmhResults(List<Row> rows) {
        this.rows = rows;
    }

    /**
     * One benchmark with one parameter combination.
     *
     * @param benchmark  the full method name, e.g. {@code org.epoll4j.jmh.MultiplexBenchmark.poll}
     * @param params     its {@code @Param} values
     * @param score      the primary score
     * @param scoreError the primary score's error (NaN if JMH gave none)
     * @param unit       the primary score's unit
     * @param secondary  secondary scores by name (aux counters, {@code gc.alloc.rate.norm}, ...)
     */
    public record Row(String benchmark, Map<String, String> params, double score, double scoreError, String unit,
                      Map<String, Double> secondary) {
        /** The method name after the last dot. */
        public String method() {
            return benchmark.substring(benchmark.lastIndexOf('.') + 1);
        }

        /** The simple class name. */
        public String className() {
            String cls = benchmark.substring(0, benchmark.lastIndexOf('.'));
            return cls.substring(cls.lastIndexOf('.') + 1);
        }

        /** A parameter, or null. */
        public String param(String name) {
            return params.get(name);
        }
    }

    /**
     * Reads a JMH JSON result file.
     *
     * @param file the file
     * @return its rows
     * @throws IOException if it cannot be read or is not a JMH result array
     */
    public static JmhResults read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (root == null || !root.isArray()) {
            throw new IOException(file + " is not a JMH JSON result (expected a top-level array)");
        }
        List<Row> rows = new ArrayList<>();
        for (JsonNode b : root) {
            Map<String, String> params = new LinkedHashMap<>();
            b.path("params").fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
            JsonNode pm = b.path("primaryMetric");
            Map<String, Double> secondary = new LinkedHashMap<>();
            b.path("secondaryMetrics").fields().forEachRemaining(e ->
                    secondary.put(e.getKey(), number(e.getValue().path("score"))));
            rows.add(new Row(b.path("benchmark").asText(), Collections.unmodifiableMap(params),
                    number(pm.path("score")), number(pm.path("scoreError")), pm.path("scoreUnit").asText(),
                    Collections.unmodifiableMap(secondary)));
        }
        return new JmhResults(rows);
    }

    private static double number(JsonNode n) {
        if (n.isNumber()) {
            return n.asDouble();
        }
        try {
            return Double.parseDouble(n.asText()); // JMH writes "NaN" as a string
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** All rows. */
    public List<Row> rows() {
        return rows;
    }

    /** The rows of {@code ClassName.method}. */
    public List<Row> of(String className, String method) {
        return rows.stream().filter(r -> r.className().equals(className) && r.method().equals(method)).toList();
    }

    /** The row of {@code ClassName.method} with the given parameter value. */
    public Optional<Row> find(String className, String method, String param, String value) {
        return of(className, method).stream().filter(r -> value.equals(r.param(param))).findFirst();
    }
}
