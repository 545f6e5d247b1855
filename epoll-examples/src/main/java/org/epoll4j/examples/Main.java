package org.epoll4j.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** Entry point of {@code epoll-examples.jar}: {@code java -jar epoll-examples.jar PROGRAM [options]}. */
@Command(name = "java -jar epoll-examples.jar", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Example programs built on epoll4j.",
        subcommands = {EchoServer.class, org.epoll4j.examples.chat.ChatServer.class,
                org.epoll4j.examples.http.HttpServer.class, org.epoll4j.examples.resp.RespServer.class,
                org.epoll4j.examples.loadgen.LoadGen.class, org.epoll4j.examples.statsd.StatsdServer.class,
                org.epoll4j.examples.proxy.ProxyServer.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Runs the named example.
     *
     * @param args the example's name, then its options
     */
    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        if (status != 0) {
            System.exit(status); // not on success: a SIGTERM's shutdown hook may be waiting for us
        }
    }

    /**
     * Parses {@code args} and runs the program they name; usage errors print a message and return 2.
     *
     * @param args the program's name, then its options
     * @param out  standard output
     * @param err  standard error
     * @return the exit status
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return commandLine(out, err).execute(args);
    }

    /** The command line with every program, writing to {@code out} and {@code err}. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
