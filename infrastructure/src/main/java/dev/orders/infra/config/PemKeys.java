package dev.orders.infra.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Splits a PEM file into its public keys, each with its BEGIN and END lines. */
final class PemKeys {

    private static final Pattern PUBLIC_KEY = Pattern.compile(
            "-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\\s]+-----END PUBLIC KEY-----");

    private PemKeys() {
    }

    static List<String> split(String pem) {
        List<String> keys = new ArrayList<>();
        Matcher matcher = PUBLIC_KEY.matcher(pem);
        while (matcher.find()) {
            keys.add(matcher.group());
        }
        return List.copyOf(keys);
    }
}
