package org.epoll4j.examples.resp;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, LASTSAVE, MEMORY USAGE,
 * FUNCTION FLUSH.
 */
final class ServerCommands {
    private static final String[] DEFAULT_SECTIONS = {"server", "clients", "memory", "stats", "keyspace"};

    private ServerCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        switch (c) {
            case INFO:
                r.verbatim(info(x));
                break;
            case CONFIG:
                config(x);
                break;
            case COMMAND:
                command(x);
                break;
            case DBSIZE:
                r.integer(x.db.size());
                break;
            case FLUSHDB:
            case FLUSHALL:
                if (a.argc == 1 || (a.argc == 2 && (a.is(1, "sync") || a.is(1, "async")))) {
                    if (c == Command.FLUSHDB) {
                        x.db.clear();
                    } else {
                        for (Keyspace k : x.store.dbs) {
                            k.clear();
                        }
                    }
                    x.ok();
                } else {
                    x.syntax();
                }
                break;
            case SWAPDB: {
                if (!a.isLong(1)) {
                    x.error("ERR invalid first DB index");
                    break;
                }
                if (!a.isLong(2)) {
                    x.error("ERR invalid second DB index");
                    break;
                }
                long i = a.toLong(1);
                long j = a.toLong(2);
                if (i < 0 || j < 0 || i >= x.store.dbs.length || j >= x.store.dbs.length) {
                    x.error("ERR DB index is out of range");
                    break;
                }
                Keyspace t = x.store.dbs[(int) i];
                x.store.dbs[(int) i] = x.store.dbs[(int) j];
                x.store.dbs[(int) j] = t;
                x.db = x.store.dbs[x.s.db];
                x.ok();
                break;
            }
            case TIME: {
                long micros = System.currentTimeMillis() * 1000 + (System.nanoTime() / 1000) % 1000;
                r.arrayHeader(2);
                r.bulk(Long.toString(micros / 1_000_000));
                r.bulk(Long.toString(micros % 1_000_000));
                break;
            }
            case LASTSAVE:
                r.integer(x.store.startedAt / 1000);
                break;
            case MEMORY:
                if (a.is(1, "usage") && (a.argc == 3 || a.argc == 5)) {
                    Keyspace.Entry e = x.db.peek(a.key(x.key, 2));
                    if (e == null || (e.expireAt != Keyspace.NO_TTL && e.expireAt <= x.now)) {
                        r.nil();
                    } else {
                        r.integer(Sizes.of(e)); // this server's estimate, the figure --maxmemory counts
                    }
                } else {
                    x.error("ERR unknown subcommand or wrong number of arguments for '" + a.text(1)
                            + "'. Try MEMORY HELP.");
                }
                break;
            case FUNCTION:
                if (a.is(1, "flush")) {
                    x.ok(); // no functions are ever loaded
                } else if (a.is(1, "list")) {
                    r.raw(Reply.EMPTY_ARRAY);
                } else {
                    x.error("ERR unknown subcommand '" + a.text(1) + "'. Try FUNCTION HELP.");
                }
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    private static String info(Call x) {
        Args a = x.a;
        java.util.Set<String> want = new java.util.LinkedHashSet<>();
        if (a.argc == 1 || a.is(1, "default")) {
            want.addAll(java.util.List.of(DEFAULT_SECTIONS));
        }
        for (int i = 1; i < a.argc; i++) {
            String s = a.text(i).toLowerCase(Locale.ROOT);
            if (s.equals("all") || s.equals("everything")) {
                want.addAll(java.util.List.of(DEFAULT_SECTIONS));
            } else if (!s.equals("default")) {
                want.add(s);
            }
        }
        Store st = x.store;
        StringBuilder b = new StringBuilder();
        for (String section : want) {
            Map<String, Object> f = new LinkedHashMap<>();
            String title;
            switch (section) {
                case "server":
                    title = "Server";
                    long up = (System.currentTimeMillis() - st.startedAt) / 1000;
                    f.put("redis_version", ConnCommands.VERSION);
                    f.put("redis_mode", "standalone");
                    f.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                            + System.getProperty("os.arch"));
                    f.put("arch_bits", 64);
                    f.put("multiplexing_api", "epoll");
                    f.put("process_id", ProcessHandle.current().pid());
                    f.put("tcp_port", x.s.connection.localAddress() instanceof java.net.InetSocketAddress
                            ? ((java.net.InetSocketAddress) x.s.connection.localAddress()).getPort() : 0);
                    f.put("server_time_usec", System.currentTimeMillis() * 1000);
                    f.put("uptime_in_seconds", up);
                    f.put("uptime_in_days", up / 86400);
                    f.put("hz", 10);
                    f.put("executable", "epoll4j-resp");
                    f.put("config_file", "");
                    break;
                case "clients":
                    title = "Clients";
                    int pubsub = 0;
                    for (Session s : st.clients.values()) {
                        pubsub += s.subscriptions() > 0 ? 1 : 0;
                    }
                    f.put("connected_clients", st.clients.size());
                    f.put("maxclients", st.config.all().get("maxclients"));
                    f.put("blocked_clients", st.blocking.blockedClients());
                    f.put("pubsub_clients", pubsub);
                    break;
                case "memory":
                    title = "Memory";
                    f.put("used_memory", st.used);
                    f.put("used_memory_human", human(st.used));
                    f.put("used_memory_peak", st.peakUsed);
                    f.put("used_memory_peak_human", human(st.peakUsed));
                    Runtime rt = Runtime.getRuntime();
                    f.put("used_memory_rss", rt.totalMemory() - rt.freeMemory());
                    f.put("total_system_memory", rt.maxMemory());
                    f.put("maxmemory", st.config.maxmemory);
                    f.put("maxmemory_human", human(st.config.maxmemory));
                    f.put("maxmemory_policy", st.config.policy.text);
                    f.put("mem_allocator", "jvm");
                    break;
                case "stats":
                    title = "Stats";
                    f.put("total_connections_received", st.connectionsReceived);
                    f.put("total_commands_processed", st.commands);
                    f.put("rejected_connections", 0);
                    f.put("expired_keys", st.expiredKeys);
                    f.put("evicted_keys", st.evictedKeys);
                    f.put("evicted_clients", 0); // maxmemory-clients eviction: not implemented
                    f.put("keyspace_hits", st.hits);
                    f.put("keyspace_misses", st.misses);
                    f.put("pubsub_channels", st.pubsub.channelCount());
                    f.put("pubsub_patterns", st.pubsub.patternCount());
                    f.put("client_output_buffer_limit_disconnections", st.pubsub.limitDisconnects.get());
                    break;
                case "keyspace":
                    title = "Keyspace";
                    for (int i = 0; i < st.dbs.length; i++) {
                        Keyspace k = st.dbs[i];
                        if (k.size() > 0) {
                            f.put("db" + i, "keys=" + k.size() + ",expires=" + k.volatileCount() + ",avg_ttl=0");
                        }
                    }
                    break;
                default:
                    continue; // an unknown section is left out, as Redis does
            }
            if (b.length() > 0) {
                b.append("\r\n");
            }
            b.append("# ").append(title).append("\r\n");
            for (Map.Entry<String, Object> e : f.entrySet()) {
                b.append(e.getKey()).append(':').append(e.getValue()).append("\r\n");
            }
        }
        return b.toString();
    }

    private static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + "B";
        }
        String[] units = {"K", "M", "G", "T"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f%s", v, units[u]);
    }

    private static void config(Call x) {
        Args a = x.a;
        if (a.is(1, "get")) {
            if (a.argc < 3) {
                x.wrongArity("config|get");
                return;
            }
            Map<String, String> found = new LinkedHashMap<>();
            Map<String, String> all = x.store.config.all();
            for (int i = 2; i < a.argc; i++) {
                String pattern = a.text(i);
                for (Map.Entry<String, String> p : all.entrySet()) {
                    if (Glob.matches(pattern, p.getKey())) {
                        found.put(p.getKey(), p.getValue());
                    }
                }
            }
            x.r.mapHeader(found.size());
            for (Map.Entry<String, String> p : found.entrySet()) {
                x.r.bulk(p.getKey());
                x.r.bulk(p.getValue());
            }
        } else if (a.is(1, "set")) {
            if (a.argc < 4 || a.argc % 2 == 1) {
                x.wrongArity("config|set");
                return;
            }
            for (int i = 2; i < a.argc; i += 2) {
                String err = x.store.config.set(a.text(i), a.text(i + 1));
                if (err != null) {
                    x.error(err);
                    return;
                }
            }
            x.ok();
        } else if (a.is(1, "resetstat") && a.argc == 2) {
            Store st = x.store;
            st.commands = 0;
            st.expiredKeys = 0;
            st.evictedKeys = 0;
            st.hits = 0;
            st.misses = 0;
            st.connectionsReceived = 0;
            x.ok();
        } else if (a.is(1, "rewrite") && a.argc == 2) {
            x.error("ERR The server is running without a config file");
        } else {
            x.error("ERR unknown subcommand '" + cString(a, 1, 128) + "'. Try CONFIG HELP.");
        }
    }

    private static void command(Call x) {
        Args a = x.a;
        Reply r = x.r;
        if (a.argc == 1) {
            r.arrayHeader(Command.values().length);
            for (Command c : Command.values()) {
                info(r, c);
            }
        } else if (a.is(1, "count")) {
            if (a.argc != 2) {
                x.wrongArity("command|count");
            } else {
                r.integer(Command.values().length);
            }
        } else if (a.is(1, "list")) {
            r.arrayHeader(Command.values().length);
            for (Command c : Command.values()) {
                r.bulk(c.nameBytes);
            }
        } else if (a.is(1, "info")) {
            r.arrayHeader(a.argc - 2);
            byte[] lowered = new byte[16];
            for (int i = 2; i < a.argc; i++) {
                Command c = Command.lookup(a.data, a.offset(i), a.length(i), lowered, x.field);
                if (c == null) {
                    r.nil();
                } else {
                    info(r, c);
                }
            }
        } else if (a.is(1, "docs")) {
            r.mapHeader(0); // minimal: no documentation (redis-cli then offers no hints)
        } else {
            x.error("ERR unknown subcommand '" + cString(a, 1, 128) + "'. Try COMMAND HELP.");
        }
    }

    /** One COMMAND entry in Redis 7's ten-field shape; the last four (ACL, tips, key specs, subcommands) empty. */
    private static void info(Reply r, Command c) {
        r.arrayHeader(10);
        r.bulk(c.nameBytes);
        r.integer(c.arity);
        r.setHeader(c.flags.length);
        for (String f : c.flags) {
            r.simple(f);
        }
        r.integer(c.firstKey);
        r.integer(c.lastKey);
        r.integer(c.keyStep);
        for (int i = 0; i < 4; i++) {
            r.raw(Reply.EMPTY_ARRAY);
        }
    }

    /** Argument {@code i} as Redis prints it in an error: at most {@code max} bytes, cut at a NUL byte. */
    static String cString(Args a, int i, int max) {
        int o = a.offset(i);
        int n = Math.min(a.length(i), max);
        StringBuilder b = new StringBuilder(n);
        for (int k = 0; k < n && a.data[o + k] != 0; k++) {
            b.append((char) (a.data[o + k] & 0xff));
        }
        return b.toString();
    }
}
