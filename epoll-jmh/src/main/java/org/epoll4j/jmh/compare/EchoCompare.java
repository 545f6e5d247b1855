package org.epoll4j.jmh.compare;

import org.epoll4j.jmh.compare.CompareResults.Load;
import org.epoll4j.jmh.compare.CompareResults.Run;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The end-to-end echo comparison: starts each echo server as a child process (this library's echo example, the
 * Netty native-epoll and JDK NIO peers of {@code org.epoll4j.jmh.peers}, and a C epoll server when its path is
 * given), each pinned to its own core where there are two or more, drives each with the same closed-loop load on
 * 127.0.0.1 (the C load generator when its path is given, else {@link LoadGen}), interleaves the servers over
 * rounds, and writes {@code compare.md} (markdown tables) and {@code compare.json} (for the chart generator).
 *
 * <pre>
 * java -cp epoll-jmh/target/benchmarks.jar org.epoll4j.jmh.compare.EchoCompare \
 *     [--out DIR] [--rounds 3] [--seconds 8] [--warmup 3] [--quick] [--idle 10000]
 *     [--epoll4j-jar epoll-examples/target/epoll-examples.jar] [--c-echo PATH] [--loadgen PATH]
 *     [--servers epoll4j,netty,nio,c-echo] [--loads 1,2,3,4] [--server-cpu 0] [--client-cpu 1]
 * </pre>
 *
 * Every child it starts is stopped when its run ends, on failure too, and by a shutdown hook if this JVM is
 * interrupted.
 */
public final class EchoCompare {
    private static final Set<Process> CHILDREN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CHILDREN.forEach(EchoCompare::stop)));
    }

    private final Options o;
    private final long clockTicks;
    private final boolean pin;

    private EchoCompare(Options o) {
        this.o = o;
        this.clockTicks = clockTicks();
        this.pin = Runtime.getRuntime().availableProcessors() >= 2 && onPath("taskset");
    }

    /** Command-line settings. */
    static final class Options {
        Path out = Path.of("epoll-jmh/target/compare");
        int rounds = 3;
        double seconds = 8;
        double warmup = 3;
        double settle = 2;
        int idle = 10_000;
        Path epoll4jJar = Path.of("epoll-examples/target/epoll-examples.jar");
        Path cEcho;
        Path loadgen;
        List<String> servers = List.of("epoll4j", "netty", "nio", "c-echo");
        List<Integer> loads = List.of(1, 2, 3, 4);
        int serverCpu = 0;
        int clientCpu = 1;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String title = "Echo servers side by side";
        boolean quick;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--quick")) {
                    o.quick = true;
                    o.rounds = 1;
                    o.seconds = 2;
                    o.warmup = 1;
                    o.settle = 0.5;
                    continue;
                }
                if (a.equals("-h") || a.equals("--help")) {
                    usage(null);
                }
                if (i + 1 >= args.length) {
                    usage(a + " needs a value");
                }
                String v = args[++i];
                switch (a) {
                    case "--out" -> o.out = Path.of(v);
                    case "--rounds" -> o.rounds = Integer.parseInt(v);
                    case "--seconds" -> o.seconds = Double.parseDouble(v);
                    case "--warmup" -> o.warmup = Double.parseDouble(v);
                    case "--settle" -> o.settle = Double.parseDouble(v);
                    case "--idle" -> o.idle = Integer.parseInt(v);
                    case "--epoll4j-jar" -> o.epoll4jJar = Path.of(v);
                    case "--c-echo" -> o.cEcho = Path.of(v);
                    case "--loadgen" -> o.loadgen = Path.of(v);
                    case "--servers" -> o.servers = List.of(v.split(","));
                    case "--loads" -> o.loads = Arrays.stream(v.split(",")).map(Integer::valueOf).toList();
                    case "--server-cpu" -> o.serverCpu = Integer.parseInt(v);
                    case "--client-cpu" -> o.clientCpu = Integer.parseInt(v);
                    case "--java" -> o.java = v;
                    case "--title" -> o.title = v;
                    default -> usage("unknown option " + a);
                }
            }
            if (o.rounds < 1 || o.seconds <= 0 || o.warmup < 0 || o.idle < 0) {
                usage("--rounds must be >= 1, --seconds > 0, --warmup and --idle >= 0");
            }
            return o;
        }

        private static void usage(String error) {
            if (error != null) {
                System.err.println("EchoCompare: " + error);
            }
            System.err.println("usage: EchoCompare [--out DIR] [--rounds N] [--seconds S] [--warmup S] [--quick]"
                    + " [--idle N] [--epoll4j-jar JAR] [--c-echo PATH] [--loadgen PATH]"
                    + " [--servers epoll4j,netty,nio,c-echo] [--loads 1,2,3,4] [--server-cpu N] [--client-cpu N]"
                    + " [--java PATH] [--title TEXT]");
            System.exit(2);
        }
    }

    /** The four loads of the issue; {@code idle} is the idle count of the fourth. */
    static List<Load> loads(int idle) {
        return List.of(
                new Load("1 connection, depth 1, 64 B", 1, 1, 64, 0),
                new Load("50 connections, depth 1, 64 B", 50, 1, 64, 0),
                new Load("200 connections, depth 8, 128 B", 200, 8, 128, 0),
                new Load(String.format(Locale.ROOT, "%,d idle + 20 active, depth 1, 64 B", idle), 20, 1, 64, idle));
    }

    /**
     * Runs the comparison.
     *
     * @param args see the class comment
     * @throws Exception if the results cannot be written
     */
    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        int status = new EchoCompare(o).run();
        System.exit(status);
    }

    private int run() throws IOException, InterruptedException {
        Files.createDirectories(o.out.resolve("logs"));
        Map<String, List<String>> servers = serverCommands();
        if (servers.isEmpty()) {
            System.err.println("EchoCompare: no server to run");
            return 1;
        }
        List<String> loadgen = loadgenCommand();
        List<Load> loads = new ArrayList<>();
        for (int i : o.loads) {
            loads.add(loads(o.idle).get(i - 1));
        }
        long needFds = 0;
        for (Load l : loads) {
            needFds = Math.max(needFds, l.conns() + l.idle() + 256L);
        }
        org.epoll4j.jmh.sys.FdLimit.require(needFds, "EchoCompare (load generator and servers)");

        List<Run> runs = new ArrayList<>();
        List<String> names = new ArrayList<>(servers.keySet());
        for (Load load : loads) {
            for (int r = 1; r <= o.rounds; r++) {
                // Rotate the order each round, so no server always runs right after the same one.
                List<String> order = new ArrayList<>(names);
                Collections.rotate(order, -(r - 1));
                for (String name : order) {
                    Run run = runOne(load, name, servers.get(name), loadgen, r);
                    runs.add(run);
                    System.err.printf(Locale.ROOT, "[%s | %s | round %d] %s%n", load.name(), name, r,
                            run.ok() ? String.format(Locale.ROOT, "%,.0f msgs/s p50 %.1f µs p99 %.1f µs cpu %.2f "
                                    + "µs/msg%s", run.msgsPerSec(), run.p50Us(), run.p99Us(), run.cpuUsPerMsg(),
                                    load.idle() > 0 ? String.format(Locale.ROOT, " %.0f B/idle conn",
                                            run.bytesPerIdleConnection()) : "") : "FAILED: " + run.note());
                }
            }
        }
        CompareResults results = new CompareResults(o.title + (o.quick ? " (QUICK, preliminary)" : ""),
                environment(loadgen), runs, CompareResults.summarize(runs));
        results.write(o.out.resolve("compare.json"));
        String md = results.markdown();
        Files.writeString(o.out.resolve("compare.md"), md, StandardCharsets.UTF_8);
        System.out.println(md);
        return runs.stream().allMatch(Run::ok) ? 0 : 3;
    }

    private Map<String, List<String>> serverCommands() {
        String cp = System.getProperty("java.class.path");
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String s : o.servers) {
            switch (s) {
                case "epoll4j" -> {
                    if (Files.isRegularFile(o.epoll4jJar)) {
                        m.put(s, javaCmd("-jar", o.epoll4jJar.toString(), "echo", "--port", "{PORT}"));
                    } else {
                        System.err.println("EchoCompare: skipping epoll4j: " + o.epoll4jJar + " not built");
                    }
                }
                case "netty" -> m.put(s, javaCmd("-cp", cp, "org.epoll4j.jmh.peers.NettyEcho", "{PORT}"));
                case "nio" -> m.put(s, javaCmd("-cp", cp, "org.epoll4j.jmh.peers.NioEcho", "{PORT}"));
                case "c-echo" -> {
                    if (o.cEcho != null && Files.isExecutable(o.cEcho)) {
                        m.put(s, List.of(o.cEcho.toString(), "{PORT}"));
                    } else if (o.cEcho != null) {
                        System.err.println("EchoCompare: skipping c-echo: " + o.cEcho + " is not executable");
                    }
                }
                default -> System.err.println("EchoCompare: unknown server " + s + " (epoll4j, netty, nio, c-echo)");
            }
        }
        return m;
    }

    private List<String> javaCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(o.java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private List<String> loadgenCommand() {
        if (o.loadgen != null && Files.isExecutable(o.loadgen)) {
            return List.of(o.loadgen.toString());
        }
        if (o.loadgen != null) {
            System.err.println("EchoCompare: " + o.loadgen + " is not executable; using the Java load generator");
        }
        return List.of(o.java, "-cp", System.getProperty("java.class.path"), LoadGen.class.getName());
    }

    private Run runOne(Load load, String name, List<String> template, List<String> loadgen, int round)
            throws InterruptedException {
        Process server = null;
        Process client = null;
        String tag = (name + "-" + load.conns() + "x" + load.depth() + "-" + load.idle() + "-r" + round)
                .replaceAll("[^A-Za-z0-9._-]", "_");
        try {
            int port = freePort();
            List<String> cmd = new ArrayList<>();
            if (pin) {
                cmd.addAll(List.of("taskset", "-c", Integer.toString(o.serverCpu)));
            }
            for (String t : template) {
                cmd.add(t.replace("{PORT}", Integer.toString(port)));
            }
            server = start(cmd, o.out.resolve("logs").resolve(tag + ".server.log"));
            if (!waitForPort(port, server, 30_000)) {
                return failed(load, name, round, "server did not accept on 127.0.0.1:" + port + " (see logs/" + tag
                        + ".server.log)");
            }
            sleep(o.settle);
            long rssBefore = rssKb(server.pid());

            List<String> lg = new ArrayList<>();
            if (pin) {
                lg.addAll(List.of("taskset", "-c", Integer.toString(o.clientCpu)));
            }
            lg.addAll(loadgen);
            lg.addAll(List.of("127.0.0.1", Integer.toString(port), Integer.toString(load.conns()),
                    Integer.toString(load.depth()), Integer.toString(load.size()), fmt(o.seconds), fmt(o.warmup)));
            if (load.idle() > 0) {
                lg.addAll(List.of("--idle", Integer.toString(load.idle())));
            }
            Path lgOut = o.out.resolve("logs").resolve(tag + ".loadgen.log");
            client = start(lg, lgOut);
            // Server CPU over (about) the measured window: from the end of the warm-up to the load's end.
            sleep(o.warmup);
            long t0 = cpuTicks(server.pid());
            long s0 = System.nanoTime();
            long rssLoaded = -1;
            if (load.idle() > 0) {
                sleep(o.seconds / 2); // all connections are open by now: idle ones are opened first
                rssLoaded = rssKb(server.pid());
            }
            if (!client.waitFor((long) ((o.seconds + o.warmup) * 1000) + 120_000, TimeUnit.MILLISECONDS)) {
                return failed(load, name, round, "load generator did not finish");
            }
            long t1 = cpuTicks(server.pid());
            long s1 = System.nanoTime();
            boolean alive = server.isAlive();
            String line = lastLine(lgOut);
            Map<String, String> kv = parseKv(line);
            if (client.exitValue() != 0 || !kv.containsKey("msgs_per_s")) {
                return failed(load, name, round, "load generator exit " + client.exitValue() + ": " + line);
            }
            double msgs = Double.parseDouble(kv.get("msgs_per_s"));
            long errors = Long.parseLong(kv.getOrDefault("errors", "0"));
            double cpuSec = (t1 - t0) / (double) clockTicks;
            double wall = (s1 - s0) / 1e9;
            double cpuUsPerMsg = msgs > 0 ? cpuSec / wall / msgs * 1e6 : Double.NaN;
            boolean ok = alive && errors == 0 && msgs > 0;
            return new Run(load.name(), name, round, ok, msgs, Double.parseDouble(kv.getOrDefault("p50_us", "NaN")),
                    Double.parseDouble(kv.getOrDefault("p99_us", "NaN")), errors, cpuUsPerMsg, rssBefore, rssLoaded,
                    load.idle(), ok ? "" : (alive ? "" : "server died; ") + (errors > 0 ? errors + " bad bytes" : ""));
        } catch (IOException | RuntimeException e) {
            return failed(load, name, round, e.toString());
        } finally {
            stop(client);
            stop(server);
        }
    }

    private static Run failed(Load load, String name, int round, String why) {
        return new Run(load.name(), name, round, false, Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN, -1, -1,
                load.idle(), why);
    }

    private static Process start(List<String> cmd, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p = pb.start();
        CHILDREN.add(p);
        return p;
    }

    /** SIGTERM, then SIGKILL after 5 s; waits for it to be gone. */
    static void stop(Process p) {
        if (p == null) {
            return;
        }
        try {
            if (p.isAlive()) {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            CHILDREN.remove(p);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private static boolean waitForPort(int port, Process p, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                return false;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    private static void sleep(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
    }

    /** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat); -1 if gone. */
    static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return parseCpuTicks(stat);
        } catch (IOException e) {
            return -1;
        }
    }

    /** utime + stime from a /proc/PID/stat line; the command name may hold spaces and parentheses. */
    static long parseCpuTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // f[0] is field 3 (state): utime (14) and stime (15) are f[11] and f[12]
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** VmRSS in KiB; -1 if unreadable. */
    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** {@code key=value} pairs of a load generator's result line. */
    static Map<String, String> parseKv(String line) {
        Map<String, String> m = new HashMap<>();
        for (String tok : line.trim().split("\\s+")) {
            int eq = tok.indexOf('=');
            if (eq > 0) {
                m.put(tok.substring(0, eq), tok.substring(eq + 1));
            }
        }
        return m;
    }

    private static String lastLine(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).contains("msgs_per_s=")) {
                return lines.get(i);
            }
        }
        return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return Long.parseLong(s);
        } catch (IOException | NumberFormatException | InterruptedException e) {
            return 100;
        }
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    private Map<String, String> environment(List<String> loadgen) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("date", Instant.now().toString());
        env.put("cpus", Runtime.getRuntime().availableProcessors() + (pin ? " (server pinned to CPU " + o.serverCpu
                + ", load generator to CPU " + o.clientCpu + " with taskset)" : " (not pinned)"));
        env.put("cpu model", cpuModel());
        env.put("kernel", System.getProperty("os.version"));
        env.put("JDK (servers)", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        env.put("load generator", loadgen.size() == 1 ? loadgen.get(0) : "Java NIO LoadGen (org.epoll4j.jmh.compare)");
        env.put("rounds", o.rounds + " interleaved; " + fmt(o.seconds) + " s measured after " + fmt(o.warmup)
                + " s warm-up; medians over rounds");
        return env;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "?";
        }
        return "?";
    }
}
