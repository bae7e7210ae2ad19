package dev.orders.bench;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An SVG chart of latency by percentile, the usual HdrHistogram shape: the x axis is
 * {@code 1 / (1 - percentile)} on a log scale (50%, 90%, 99%, 99.9%, ...), the y axis milliseconds on
 * a log scale, one line per series.
 */
final class LatencyChart {

    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f"};
    private static final int WIDTH = 820;
    private static final int HEIGHT = 480;
    private static final int LEFT = 70;
    private static final int RIGHT = 210;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;

    private LatencyChart() {
    }

    /** @param series name to histogram (values in nanoseconds), drawn in this order */
    static String svg(String title, Map<String, Histogram> series) {
        double maxX = 4; // 99.99%
        double minMs = Double.MAX_VALUE;
        double maxMs = 0;
        for (Histogram h : series.values()) {
            if (h.getTotalCount() == 0) {
                continue;
            }
            minMs = Math.min(minMs, Math.max(0.05, h.getValueAtPercentile(1) / 1e6));
            maxMs = Math.max(maxMs, h.getMaxValue() / 1e6);
            maxX = Math.max(maxX, Math.min(6, Math.log10(h.getTotalCount())));
        }
        if (maxMs == 0) {
            minMs = 0.1;
            maxMs = 1;
        }
        double lo = Math.floor(Math.log10(minMs));
        double hi = Math.ceil(Math.log10(maxMs * 1.05));
        if (hi <= lo) {
            hi = lo + 1;
        }
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - TOP - BOTTOM;
        final double loF = lo;
        final double hiF = hi;
        final double maxXF = maxX;
        java.util.function.DoubleUnaryOperator xOf = x -> LEFT + plotW * x / maxXF;
        java.util.function.DoubleUnaryOperator yOf = ms -> TOP + plotH * (1 - (Math.log10(ms) - loF) / (hiF - loF));

        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>%n",
                LEFT, escape(title)));
        // grid: decades of milliseconds
        for (double d = lo; d <= hi + 1e-9; d++) {
            for (int m = 1; m < 10; m++) {
                double ms = Math.pow(10, d) * m;
                if (Math.log10(ms) > hi + 1e-9) {
                    break;
                }
                double y = yOf.applyAsDouble(ms);
                svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>%n",
                        LEFT, LEFT + plotW, y, y, m == 1 ? "#bbb" : "#eee"));
                if (m == 1) {
                    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s ms</text>%n",
                            LEFT - 6, y + 4, trim(ms)));
                }
            }
        }
        String[] labels = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"};
        for (int x = 0; x <= (int) maxX; x++) {
            double px = xOf.applyAsDouble(x);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    px, px, TOP, TOP + plotH));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                    px, TOP + plotH + 18, labels[x]));
        }
        double p50 = xOf.applyAsDouble(Math.log10(2));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" stroke=\"#ddd\" stroke-dasharray=\"3,3\"/>%n",
                p50, p50, TOP, TOP + plotH));
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">50%%</text>%n",
                p50, TOP + plotH + 18));
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">percentile</text>%n",
                LEFT + plotW / 2, HEIGHT - 18));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>%n",
                LEFT, TOP, plotW, plotH));
        int i = 0;
        for (Map.Entry<String, Histogram> entry : series.entrySet()) {
            Histogram h = entry.getValue();
            String colour = COLOURS[i % COLOURS.length];
            if (h.getTotalCount() > 0) {
                List<String> points = new ArrayList<>();
                double lastX = Math.min(maxX, Math.log10(h.getTotalCount()));
                for (double x = 0; x <= lastX + 1e-9; x += 0.02) {
                    double percentile = 100 * (1 - Math.pow(10, -x));
                    double ms = Math.max(Math.pow(10, lo), h.getValueAtPercentile(percentile) / 1e6);
                    points.add(String.format(Locale.ROOT, "%.1f,%.1f", xOf.applyAsDouble(x), yOf.applyAsDouble(ms)));
                }
                svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                        colour, String.join(" ", points)));
            }
            double ly = TOP + 14 + i * 20;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    LEFT + plotW + 12, LEFT + plotW + 32, ly, ly, colour));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", LEFT + plotW + 38, ly + 4,
                    escape(entry.getKey())));
            i++;
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static String trim(double ms) {
        return ms >= 1 ? String.format(Locale.ROOT, "%.0f", ms) : String.format(Locale.ROOT, "%s", ms);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
