package org.epoll4j.examples.chat;

import org.epoll4j.examples.ServerUnderTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.*;

/** The chat example in-process on an ephemeral port, driven by raw-socket clients (and nc). */
@Timeout(60)
class ChatServerTest {
    private final List<Client> clients = new ArrayList<>();
    private ChatServer chat;
    private ServerUnderTest server;

    /** A raw-socket chat user. */
    private final class Client implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final OutputStream out;

        Client(int port) throws IOException {
            this(port, 0);
        }

        Client(int port, int receiveBuffer) throws IOException {
            socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer); // before connect: it sets the advertised window
            }
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(15_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
            clients.add(this);
        }

        void send(String line) throws IOException {
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Reads lines until one matches; fails on EOF or after the socket timeout. */
        String await(Predicate<String> wanted, String what) throws IOException {
            List<String> seen = new ArrayList<>();
            while (true) {
                String line;
                try {
                    line = in.readLine();
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("no line " + what + " within the timeout; saw " + tail(seen));
                }
                if (line == null) {
                    throw new AssertionError("EOF before a line " + what + "; saw " + tail(seen));
                }
                if (wanted.test(line)) {
                    return line;
                }
                seen.add(line);
            }
        }

        String await(String exact) throws IOException {
            return await(exact::equals, "'" + exact + "'");
        }

        String awaitPrefix(String prefix) throws IOException {
            return await(l -> l.startsWith(prefix), "starting '" + prefix + "'");
        }

        /** Joins and takes the name {@code nick}; returns after the server confirmed it. */
        Client as(String nick) throws IOException {
            awaitPrefix("* welcome, you are guest");
            send("/nick " + nick);
            await("* you are now " + nick);
            return this;
        }

        /** Reads to EOF (the server closed); fails if it does not come. */
        void awaitEof() throws IOException {
            try {
                while (in.readLine() != null) {
                    // drain
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server did not close the connection");
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String tail(List<String> seen) {
        return seen.subList(Math.max(0, seen.size() - 5), seen.size()).toString();
    }

    private int start(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--port", "0"));
        args.addAll(List.of(extra));
        chat = new ChatServer();
        chat.stop = new CountDownLatch(1);
        server = ServerUnderTest.start(chat, chat.stop, args.toArray(String[]::new));
        return server.port();
    }

    /** Stops the server and returns everything it printed. */
    private String stopServer() throws Exception {
        server.requestStop();
        assertEquals(0, server.awaitExit(), server.errors());
        return server.output();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Client c : clients) {
            c.close();
        }
        if (server != null && !server.exited()) {
            stopServer();
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().startsWith("chat") && t.isAlive() && t != Thread.currentThread()
                    && !t.getName().equals("chat-test-main"), "thread left running: " + t);
        }
    }

    @Test
    void joinBroadcastNickWhoQuitAndSummary() throws Exception {
        int port = start();
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port);
        String welcome = bob.awaitPrefix("* welcome, you are guest");
        String guest = welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
        alice.await("* " + guest + " joined");
        bob.send("/nick bob");
        bob.await("* you are now bob");
        alice.await("* " + guest + " is now known as bob");

        alice.send("hello, bob");
        bob.await("<alice> hello, bob");
        bob.send("hi alice \u00e9\u00e8");
        alice.await("<bob> hi alice \u00e9\u00e8");

        bob.send("/who");
        bob.await("* online (2): alice, bob");

        bob.send("/quit");
        bob.await("* bye");
        bob.awaitEof();
        alice.await("* bob left");
        alice.send("/who");
        alice.await("* online (1): alice");

        String out = stopServer();
        assertTrue(out.endsWith("chat: stopped; 2 connections, 2 messages relayed, 0 slow clients disconnected\n"),
                out);
    }

    @Test
    void badNicksAndCommandsGetAClearErrorAndTheConnectionStays() throws Exception {
        int port = start();
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port).as("bob");
        alice.awaitPrefix("* guest");
        bob.send("/nick alice");
        bob.await("! nick 'alice' is taken");
        bob.send("/nick ALICE");
        bob.await("! nick 'ALICE' is taken");
        bob.send("/nick two words");
        bob.await("! invalid nick 'two words': 1-16 letters, digits, '_' or '-'");
        bob.send("/nick ");
        bob.await("! invalid nick '': 1-16 letters, digits, '_' or '-'");
        bob.send("/nick abcdefghijklmnopq");
        bob.awaitPrefix("! invalid nick 'abcdefghijklmnopq'");
        bob.send("/nick esc\u001b[2J");
        bob.await("! invalid nick 'esc?[2J': 1-16 letters, digits, '_' or '-'");
        bob.send("/shout hi");
        bob.await("! unknown command /shout (try /nick NAME, /who, /quit)");
        bob.send("/");
        bob.await("! unknown command / (try /nick NAME, /who, /quit)");
        // still bob, still connected; blank lines are ignored, control characters neutralised
        bob.send("");
        bob.send("still \u0007here");
        alice.await("<bob> still ?here");
        bob.send("/who");
        bob.await("* online (2): alice, bob");
    }

    @Test
    void aLineOverTheLimitIsDroppedWithAnErrorAndTheSessionGoesOn() throws Exception {
        int port = start("--max-line", "100");
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port).as("bob");
        alice.await("* guest2 is now known as bob");
        bob.send("x".repeat(100)); // exactly the limit: fine
        alice.await("<bob> " + "x".repeat(100));
        // over the limit, with another line behind it in the same write: only the long one is dropped
        bob.send("y".repeat(101) + "\nafter the long line");
        bob.await("! line too long (limit 100 bytes); dropped");
        assertEquals("<bob> after the long line", alice.in.readLine(), "nothing of the long line is relayed");
        // a huge line arriving in pieces is skipped up to its newline without being buffered
        bob.out.write("z".repeat(300_000).getBytes(StandardCharsets.UTF_8));
        bob.send("z tail\n/who");
        bob.await("! line too long (limit 100 bytes); dropped");
        bob.await("* online (2): alice, bob");
    }

    @Test
    void controlAndBidiCharactersAreNeutralisedAndCommandsIgnoreCase() throws Exception {
        int port = start();
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port);
        bob.awaitPrefix("* welcome, you are guest");
        bob.send("/NICK Bob");
        bob.await("* you are now Bob");
        bob.send("a\u202Eb\u2066c\u2069d\u200Be\u001B[31mf\uFEFFg\u2028h \uD83D\uDE00");
        alice.await("<Bob> a?b?c?d?e?[31mf?g?h \uD83D\uDE00");
        bob.send("/Who");
        bob.await("* online (2): alice, Bob");
        bob.send("/QuIt");
        bob.await("* bye");
    }

    @Test
    void aFlooderIsSlowedAndWarnedAndEveryLineStillArrivesInOrder() throws Exception {
        int port = start("--flood-rate", "20", "--flood-burst", "5");
        Client alice = new Client(port).as("alice");
        Client flood = new Client(port).as("flood");
        alice.await("* guest2 is now known as flood");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            b.append("line ").append(i).append('\n');
        }
        flood.out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        flood.out.flush();
        flood.await("! slow down: at most 20 lines a second (bursts of 5); your lines are delayed");
        for (int i = 0; i < 30; i++) {
            assertEquals("<flood> line " + i, alice.in.readLine());
        }
        flood.send("/who");
        flood.await("* online (2): alice, flood");
    }

    @Test
    void aUserCapAndAnIdleTimeout() throws Exception {
        int port = start("--max-users", "2", "--idle-timeout-s", "1");
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port).as("bob");
        Client carol = new Client(port);
        carol.await("! the chat is full (2 users); try again later");
        carol.awaitEof();
        // alice keeps talking (sending resets her idle time); bob says nothing and is timed out. One "hello" was not
        // enough: bob's last read (his /nick) came only milliseconds before it, so under load alice's own timeout
        // could fire before bob's departure reached her. She talks every 300 ms (under the flood limit) until then.
        alice.send("hello");
        bob.await("<alice> hello");
        java.util.concurrent.atomic.AtomicBoolean talking = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread chatter = new Thread(() -> {
            try {
                while (talking.get()) {
                    Thread.sleep(300); // the activity under test, not synchronisation
                    alice.send(".");
                }
            } catch (Exception stopped) {
                // the test ended
            }
        }, "alice-chatter");
        chatter.setDaemon(true);
        chatter.start();
        try {
            bob.await("! idle for 1 s; closing");
            bob.awaitEof();
            alice.await("* bob left (idle)");
        } finally {
            talking.set(false);
            chatter.join(5000);
        }
        Client dave = new Client(port); // a place is free again
        dave.awaitPrefix("* welcome, you are guest");
    }

    /**
     * The bound counts what the server's kernel holds for a client too (its send queue, {@code SIOCOUTQ}): of what
     * the room handed a client that never reads, at most the bound is in the server (its queue and its kernel) when
     * the client is cut, the rest in the client's own receive buffer, give or take the line that tipped it. Counting
     * only the server's queue let the kernel's unsent bytes through on top (a quarter of the bound and more with
     * {@code TCP_NOTSENT_LOWAT}; ~2.3 MB with an autotuned send buffer). One reactor, so bob, who reads everything,
     * sees alice's lines and the cut in the order the room handed them out.
     */
    @Test
    void theQueueBoundCountsWhatTheKernelHoldsToo() throws Exception {
        int maxQueue = 64 * 1024;
        int port = start("--max-queue", String.valueOf(maxQueue), "--flood-rate", "0", "--reactors", "1");
        Client slow = new Client(port, 4096).as("slow"); // a small window; from here on it reads nothing
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port).as("bob");
        alice.await("* guest3 is now known as bob");
        String notice = "* slow was disconnected: not reading (over " + maxQueue + " bytes queued)";
        String text = "q".repeat(1000);
        long lineBytes = ("<alice> " + text + "\r\n").length();
        int wave = 16;
        String burst = (text + "\n").repeat(wave);
        long handed = 0; // alice's lines the room handed to slow before the cut, as bob saw them
        boolean noticed = false;
        for (int w = 0; w < 500 && !noticed; w++) { // 8 MB at most
            alice.out.write(burst.getBytes(StandardCharsets.UTF_8));
            alice.out.flush();
            for (int got = 0; got < wave; ) {
                String l = bob.await(x -> x.startsWith("<alice> ") || x.startsWith("* "), "from alice");
                if (l.equals(notice)) {
                    noticed = true;
                } else if (l.startsWith("<alice> ")) {
                    got++;
                    if (!noticed) {
                        handed += lineBytes;
                    }
                }
            }
        }
        assertTrue(noticed, "no disconnect notice");
        int window = slow.socket.getReceiveBufferSize(); // as the kernel holds it (Linux doubles what was set)
        System.out.println("the room handed a non-reading client " + handed + " bytes of chat before the cut"
                + " (bound " + maxQueue + ", its receive buffer " + window + ")");
        assertTrue(handed <= maxQueue + window + 2 * lineBytes, handed + " bytes handed past a " + maxQueue
                + "-byte bound and a " + window + "-byte receive buffer");
    }

    @Test
    void renamesAndBroadcastsAcrossReactorsAreEachDeliveredOnce() throws Exception {
        int port = start("--reactors", "2", "--flood-rate", "0");
        List<Client> users = new ArrayList<>();
        Set<Object> reactors = new HashSet<>();
        for (int i = 0; i < 40 && (reactors.size() < 2 || users.size() < 3); i++) {
            Client c = new Client(port);
            String welcome = c.awaitPrefix("* welcome, you are ");
            String nick = welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
            c.send("/nick r" + users.size());
            c.await("* you are now r" + users.size());
            users.add(c);
            for (ChatSession s : chat.room.members()) {
                if (("r" + (users.size() - 1)).equals(s.nick)) {
                    reactors.add(s.connection().reactor());
                }
            }
        }
        assertEquals(2, reactors.size(), "40 connections all landed on one reactor");
        Client renamer = users.get(0);
        Client talker = null;
        for (Client c : users.subList(1, users.size())) {
            talker = c; // any other user; with two reactors some pair crosses threads
        }
        int n = 300;
        StringBuilder renames = new StringBuilder();
        StringBuilder talk = new StringBuilder();
        for (int i = 0; i < n; i++) {
            renames.append("/nick x").append(i).append('\n');
            talk.append("m").append(i).append('\n');
        }
        renamer.out.write(renames.toString().getBytes(StandardCharsets.UTF_8));
        talker.out.write(talk.toString().getBytes(StandardCharsets.UTF_8));
        renamer.out.flush();
        talker.out.flush();
        String talkerNick = "r" + users.indexOf(talker);
        int next = 0;
        int confirmations = 0;
        while (next < n || confirmations < n) {
            String l = renamer.in.readLine();
            assertNotNull(l, "EOF");
            if (l.startsWith("<" + talkerNick + "> m")) {
                assertEquals("<" + talkerNick + "> m" + next, l, "each broadcast once, in order");
                next++;
            } else if (l.startsWith("* you are now x")) {
                confirmations++;
            }
        }
        renamer.send("/who");
        String who = renamer.awaitPrefix("* online (");
        assertTrue(who.startsWith("* online (" + users.size() + "): "), who);
        assertTrue(who.contains("x" + (n - 1)), who);
    }

    @Test
    void aClientThatNeverReadsIsDisconnectedAndTheOthersGoOn() throws Exception {
        int maxQueue = 16 * 1024;
        int port = start("--max-queue", String.valueOf(maxQueue), "--flood-rate", "0");
        Client slow = new Client(port, 4096).as("slow"); // from here on it reads nothing
        Client alice = new Client(port).as("alice");
        Client bob = new Client(port).as("bob");
        alice.await("* guest3 is now known as bob");

        // Alice talks in waves; bob reads each wave before the next, so only the slow client falls behind.
        String text = "z".repeat(500);
        int wave = 32;
        boolean noticed = false;
        long sent = 0;
        String notice = "* slow was disconnected: not reading (over " + maxQueue + " bytes queued)";
        for (int w = 0; w < 4000 && !noticed; w++) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < wave; i++) {
                b.append(text).append('\n');
            }
            alice.out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            alice.out.flush();
            sent += wave;
            for (int got = 0; got < wave; ) {
                String line = bob.await(l -> l.startsWith("<alice> ") || l.startsWith("* "), "from alice");
                if (line.equals(notice)) {
                    noticed = true;
                } else if (line.startsWith("<alice> ")) {
                    got++;
                }
            }
        }
        assertTrue(noticed, "no disconnect notice after " + sent + " lines of 500 bytes");
        alice.await(notice);
        // the others keep chatting
        bob.send("still here");
        alice.await("<bob> still here");
        alice.send("/who");
        alice.await("* online (2): alice, bob");
        // the slow client's connection was closed: it finds EOF after what the kernel already held
        slow.awaitEof();
        String out = stopServer();
        assertTrue(out.contains(", 1 slow clients disconnected\n"), out);
    }

    @Test
    void usersOnDifferentReactorsSeeEachOther() throws Exception {
        int port = start("--reactors", "2");
        List<Client> users = new ArrayList<>();
        Set<Object> reactors = new HashSet<>();
        // SO_REUSEPORT spreads connections by a hash of the addresses: connect until both reactors have users.
        for (int i = 0; i < 40 && (reactors.size() < 2 || users.size() < 4); i++) {
            Client c = new Client(port);
            String welcome = c.awaitPrefix("* welcome, you are ");
            users.add(c);
            String nick = welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
            for (ChatSession s : chat.room.members()) {
                if (nick.equals(s.nick)) {
                    reactors.add(s.connection().reactor());
                }
            }
        }
        assertEquals(2, reactors.size(), "40 connections all landed on one reactor");
        for (int i = 0; i < users.size(); i++) {
            users.get(i).send("/nick u" + i);
            users.get(i).await("* you are now u" + i);
        }
        for (int i = 0; i < users.size(); i++) {
            users.get(i).send("message " + i);
            for (int j = 0; j < users.size(); j++) {
                if (j != i) {
                    users.get(j).await("<u" + i + "> message " + i);
                }
            }
        }
        users.get(0).send("/who");
        String who = users.get(0).awaitPrefix("* online (");
        assertTrue(who.startsWith("* online (" + users.size() + "): "), who);
    }

    @Test
    void badOptionsExitTwoWithAMessage() {
        String[][] bad = {{"--max-line", "0"}, {"--max-queue", "1"}, {"--max-line", "x"}, {"--port", "-1"}};
        String[] says = {"--max-line must be 1..1048576: 0", "--max-queue must be 2..1073741824: 1",
                "Invalid value for option '--max-line': 'x' is not an int", "--port must be 0..65535: -1"};
        for (int i = 0; i < bad.length; i++) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cl = new CommandLine(new ChatServer());
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            assertEquals(2, cl.execute(bad[i]), String.join(" ", bad[i]));
            assertTrue(err.toString().contains(says[i]), err.toString());
            assertEquals("", out.toString());
        }
    }

    /** netcat-openbsd as a real client: its lines are relayed and it sees the others'. */
    @Test
    void ncSmoke() throws Exception {
        Path nc = findOnPath("nc");
        Assumptions.assumeTrue(nc != null || System.getenv("CI") != null, "nc (netcat-openbsd) is not installed");
        assertNotNull(nc, "CI is set but nc is not installed");
        int port = start();
        Client alice = new Client(port).as("alice");
        Path input = Files.createTempFile("chat-nc", ".in");
        Path output = Files.createTempFile("chat-nc", ".out");
        try {
            Files.writeString(input, "/nick netcat\nhello from nc\n/who\n/quit\n");
            Process p = new ProcessBuilder(nc.toString(), "127.0.0.1", String.valueOf(port))
                    .redirectInput(input.toFile()).redirectOutput(output.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                alice.awaitPrefix("* guest");
                alice.await(l -> l.endsWith(" is now known as netcat"), "renaming to netcat");
                alice.await("<netcat> hello from nc");
                alice.await("* netcat left");
                assertTrue(p.waitFor(20, TimeUnit.SECONDS), "nc ends once the server closes after /quit");
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            List<String> got = Files.readAllLines(output);
            assertTrue(got.get(0).startsWith("* welcome, you are guest"), got.toString());
            assertEquals(List.of("* you are now netcat", "* online (2): alice, netcat", "* bye"),
                    got.subList(1, got.size()).stream().map(l -> l.replace("\r", "")).toList());
        } finally {
            Files.deleteIfExists(input);
            Files.deleteIfExists(output);
        }
    }

    private static Path findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
