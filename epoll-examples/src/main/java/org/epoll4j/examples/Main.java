package org.epoll4j.examples;

import java.util.Arrays;

/** Entry point of {@code epoll-examples.jar}: {@code java -jar epoll-examples.jar PROGRAM [options]}. */
public final class Main {
    private Main() {
    }

    /**
     * Runs the named example.
     *
     * @param args the example's name, then its options
     * @throws Exception whatever the example throws
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println("usage: java -jar epoll-examples.jar PROGRAM [options]\n\nprograms:\n"
                    + "  echo    the seed article's echo server on epoll4j (echo --help for options)");
            return;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "echo":
                int status = EchoServer.run(rest, System.out, System.err);
                if (status != 0) {
                    System.exit(status); // not on success: a SIGTERM's shutdown hook may be waiting for us
                }
                break;
            default:
                System.err.println("unknown program: " + args[0] + " (try --help)");
                System.exit(2);
        }
    }
}
