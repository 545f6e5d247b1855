package org.epoll4j.jmh.charts;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Draws {@code udp-echo.png}: median datagrams/s of each UDP echo server per datagram size, from the per-run lines
 * {@code udp-compare.sh} prints ({@code [NAME rN] dgrams_per_s=... size=...}).
 *
 * <pre>
 * java -cp epoll-jmh/target/benchmarks.jar org.epoll4j.jmh.charts.UdpCharts LOG [OUT_DIR] [LABEL]
 * </pre>
 */
public final class UdpCharts {
    private static final Pattern RUN = Pattern.compile("^\\[(\\S+) r\\d+] dgrams_per_s=(\\d+) .*size=(\\d+)");

    private UdpCharts() {
    }

    /**
     * Reads the log and writes the chart.
     *
     * @param args the udp-compare log, then optionally the output directory (default docs/img) and a label
     * @throws IOException if the log cannot be read or the PNG written
     */
    public static void main(String[] args) throws IOException {
        Path log = Path.of(args[0]);
        Path out = Path.of(args.length > 1 ? args[1] : "docs/img");
        String label = args.length > 2 ? " (" + args[2] + ")" : "";
        // size -> server -> runs
        Map<Integer, Map<String, List<Long>>> runs = new TreeMap<>();
        for (String line : Files.readAllLines(log)) {
            Matcher m = RUN.matcher(line);
            if (m.find()) {
                runs.computeIfAbsent(Integer.parseInt(m.group(3)), k -> new LinkedHashMap<>())
                        .computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(Long.parseLong(m.group(2)));
            }
        }
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no udp-compare runs in " + log);
        }
        CategoryChart c = new CategoryChartBuilder().width(900).height(540)
                .title("UDP echo, 4 sockets x 32 in flight: median datagrams/s" + label)
                .xAxisTitle("datagram size").yAxisTitle("datagrams/s").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        List<String> servers = new ArrayList<>(runs.values().iterator().next().keySet());
        for (String server : servers) {
            List<String> xs = new ArrayList<>();
            List<Number> ys = new ArrayList<>();
            runs.forEach((size, byServer) -> {
                List<Long> r = byServer.get(server);
                if (r != null) {
                    xs.add(size + " B");
                    ys.add(median(r));
                }
            });
            c.addSeries(server, xs, ys);
        }
        Files.createDirectories(out);
        Path png = out.resolve("udp-echo.png");
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + png);
    }

    static long median(List<Long> values) {
        List<Long> v = new ArrayList<>(values);
        Collections.sort(v);
        return v.get(v.size() / 2);
    }
}
