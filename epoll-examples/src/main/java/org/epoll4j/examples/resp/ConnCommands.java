package org.epoll4j.examples.resp;

/** Connection commands: PING, ECHO, QUIT, AUTH, HELLO, SELECT, CLIENT, RESET. */
final class ConnCommands {
    static final String VERSION = "7.0.15";
    private static final String WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

    private ConnCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        switch (c) {
            case PING:
                if (a.argc > 2) {
                    x.wrongArity("ping");
                } else if (x.s.subscriptions() > 0 && !x.s.resp3) {
                    r.arrayHeader(2); // in RESP2 subscriber mode: a "pong" message
                    r.bulk("pong");
                    r.bulk(a.argc == 2 ? a.copy(1) : new byte[0]);
                } else if (a.argc == 1) {
                    r.raw(Reply.PONG);
                } else {
                    r.bulk(a.data, a.offset(1), a.length(1));
                }
                break;
            case ECHO:
                r.bulk(a.data, a.offset(1), a.length(1));
                break;
            case QUIT:
                x.ok();
                return Call.CLOSE;
            case AUTH:
                auth(x);
                break;
            case HELLO:
                hello(x);
                break;
            case SELECT: {
                if (!a.isLong(1)) {
                    x.notInteger();
                    break;
                }
                long n = a.toLong(1);
                if (n < 0 || n >= x.store.dbs.length) {
                    x.error("ERR DB index is out of range");
                    break;
                }
                x.s.db = (int) n;
                x.db = x.store.dbs[(int) n];
                x.ok();
                break;
            }
            case CLIENT:
                client(x);
                break;
            case RESET:
                reset(x);
                r.simple("RESET");
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    /** Checks a user name and password against requirepass; replies the error and returns false if wrong. */
    private static boolean check(Call x, int userArg, int passArg) {
        String pass = x.store.config.requirepass;
        boolean userOk = userArg < 0 || x.a.text(userArg).equals("default");
        boolean passOk = pass.isEmpty() || pass.equals(x.a.text(passArg));
        if (!userOk || !passOk) {
            x.error(WRONGPASS);
            return false;
        }
        x.s.authenticated = true;
        return true;
    }

    private static void auth(Call x) {
        Args a = x.a;
        if (a.argc > 3) {
            x.syntax();
            return;
        }
        if (a.argc == 2 && x.store.config.requirepass.isEmpty()) {
            x.error("ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?");
            return;
        }
        if (check(x, a.argc == 3 ? 1 : -1, a.argc - 1)) {
            x.ok();
        }
    }

    private static void hello(Call x) {
        Args a = x.a;
        int proto = x.s.resp3 ? 3 : 2;
        if (a.argc > 1) {
            if (!a.isLong(1)) {
                x.error("ERR Protocol version is not an integer or out of range");
                return;
            }
            long v = a.toLong(1);
            if (v < 2 || v > 3) {
                x.error("NOPROTO unsupported protocol version");
                return;
            }
            proto = (int) v;
        }
        String name = null;
        boolean authed = false;
        for (int i = 2; i < a.argc; i++) {
            if (a.is(i, "auth") && i + 2 < a.argc) {
                if (!check(x, i + 1, i + 2)) {
                    return;
                }
                authed = true;
                i += 2;
            } else if (a.is(i, "setname") && i + 1 < a.argc) {
                name = a.text(++i);
                if (!validName(name)) {
                    x.error("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            } else {
                x.error("ERR Syntax error in HELLO option '" + a.text(i) + "'");
                return;
            }
        }
        if (!x.s.authenticated && !authed) {
            x.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> "
                    + "AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol "
                    + "version at the same time");
            return;
        }
        if (name != null) {
            x.s.name = name;
        }
        x.s.resp3 = proto == 3;
        x.r.resp3 = x.s.resp3;
        Reply r = x.r;
        r.mapHeader(7);
        r.bulk("server");
        r.bulk("redis");
        r.bulk("version");
        r.bulk(VERSION);
        r.bulk("proto");
        r.integer(proto);
        r.bulk("id");
        r.integer(x.s.id);
        r.bulk("mode");
        r.bulk("standalone");
        r.bulk("role");
        r.bulk("master");
        r.bulk("modules");
        r.raw(Reply.EMPTY_ARRAY);
    }

    private static boolean validName(String n) {
        for (int i = 0; i < n.length(); i++) {
            char ch = n.charAt(i);
            if (ch < '!' || ch > '~') {
                return false;
            }
        }
        return true;
    }

    private static void client(Call x) {
        Args a = x.a;
        Session s = x.s;
        if (a.is(1, "id") && a.argc == 2) {
            x.r.integer(s.id);
        } else if (a.is(1, "setname") && a.argc == 3) {
            String n = a.text(2);
            if (!validName(n)) {
                x.error("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            s.name = n;
            x.ok();
        } else if (a.is(1, "getname") && a.argc == 2) {
            if (s.name.isEmpty()) {
                x.r.nil();
            } else {
                x.r.bulk(s.name);
            }
        } else if (a.is(1, "setinfo") && a.argc == 4) {
            String v = a.text(3);
            if (a.is(2, "lib-name")) {
                if (v.indexOf(' ') >= 0 || !validName(v.isEmpty() ? "x" : v)) {
                    x.error("ERR lib-name cannot contain spaces, newlines or special characters.");
                    return;
                }
                s.libName = v;
            } else if (a.is(2, "lib-ver")) {
                if (!validName(v.isEmpty() ? "x" : v)) {
                    x.error("ERR lib-ver cannot contain spaces, newlines or special characters.");
                    return;
                }
                s.libVersion = v;
            } else {
                x.error("ERR Unrecognized option '" + a.text(2) + "'");
                return;
            }
            x.ok();
        } else if (a.is(1, "list")) {
            StringBuilder b = new StringBuilder();
            for (Session o : x.store.clients.values()) {
                b.append(info(o, x.store)).append('\n');
            }
            x.r.verbatim(b.toString());
        } else if (a.is(1, "info") && a.argc == 2) {
            x.r.verbatim(info(s, x.store) + "\n");
        } else if (a.is(1, "kill") && a.argc == 4 && a.is(2, "id")) {
            Session o = a.isLong(3) ? x.store.clients.get(a.toLong(3)) : null;
            if (o == null) {
                x.error("ERR No such client");
                return;
            }
            o.connection.close();
            x.r.raw(Reply.ONE);
        } else if (a.is(1, "reply") && a.argc == 3) {
            if (a.is(2, "on")) {
                s.replyMode = 0;
                x.ok();
            } else if (a.is(2, "off")) {
                s.replyMode = 1;
            } else if (a.is(2, "skip")) {
                s.replyMode = 2;
            } else {
                x.syntax();
            }
        } else if (a.is(1, "no-evict") || a.is(1, "no-touch")) {
            x.ok();
        } else {
            x.error("ERR unknown subcommand or wrong number of arguments for '" + a.text(1)
                    + "'. Try CLIENT HELP.");
        }
    }

    /** One CLIENT LIST line, in Redis's field order (fields this server does not track are 0). */
    static String info(Session s, Store store) {
        long now = System.currentTimeMillis();
        String addr = String.valueOf(s.connection.remoteAddress()).replaceFirst("^/", "");
        String laddr = String.valueOf(s.connection.localAddress()).replaceFirst("^/", "");
        return "id=" + s.id + " addr=" + addr + " laddr=" + laddr + " fd=" + s.connection.fd() + " name=" + s.name
                + " age=" + (now - s.createdAt) / 1000 + " idle=0 flags=" + (s.multi != null ? "x"
                : s.subscriptions() > 0 ? "P" : s.waiting != null ? "b" : "N")
                + " db=" + s.db + " sub=" + s.channels.size() + " psub=" + s.patterns.size() + " ssub=0 multi="
                + (s.multi == null ? -1 : s.multi.size()) + " qbuf=" + s.pending() + " qbuf-free=0 argv-mem=0"
                + " multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=" + s.connection.queuedBytes() + " tot-mem=0 events=r"
                + " cmd=" + s.lastCommand + " user=default redir=-1 resp=" + (s.resp3 ? 3 : 2)
                + " lib-name=" + s.libName + " lib-ver=" + s.libVersion;
    }

    /** RESET: back to a fresh connection's state. */
    static void reset(Call x) {
        Session s = x.s;
        x.store.pubsub.dropAll(s);
        s.multi = null;
        s.multiError = false;
        TxCommands.unwatch(x);
        s.resp3 = false;
        x.r.resp3 = false;
        s.db = 0;
        x.db = x.store.dbs[0];
        s.name = "";
        s.authenticated = x.store.config.requirepass.isEmpty();
    }
}
