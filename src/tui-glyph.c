/*
 * tui-glyph.c: the characters the console draws with: braille dots,
 * bars and sparklines, with an ASCII fallback when the locale is not UTF-8.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

/* Bit of dot (x, y) in a braille cell (2 wide, 4 high). */
const unsigned char tui_braille_bit[4][2] = {
	{ 0x01, 0x08 }, { 0x02, 0x10 }, { 0x04, 0x20 }, { 0x40, 0x80 }
};

/* A braille cell, or an ASCII shade by the number of dots set. */
wchar_t
tui_glyph_braille(const struct tui_glyphs *g, unsigned bits)
{
	static const char shade[] = " ..::**##";

	bits &= 0xff;
	if (g->utf8)
		return bits == 0 ? L' ' : (wchar_t)(0x2800 + bits);
	return (wchar_t)shade[__builtin_popcount(bits)];
}

/* Where v falls in [lo, hi], from 0 to 1. */
static double
tui_glyph_fraction(double v, double lo, double hi)
{
	double f;

	if (!isfinite(v) || !(hi > lo))
		return 0;
	f = (v - lo) / (hi - lo);
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* A bar of width cells, eighths resolution in Unicode. */
void
tui_glyph_bar(const struct tui_glyphs *g, wchar_t *out, int width,
    double g_us, double lo, double hi)
{
	static const wchar_t eighths[] = L" ▏▎▍▌▋▊▉";
	int i, n;

	if (width <= 0) {
		out[0] = L'\0';
		return;
	}
	n = (int)lround(tui_glyph_fraction(g_us, lo, hi) * width * 8);
	for (i = 0; i < width; i++) {
		int left = n - i * 8;

		if (left >= 8)
			out[i] = g->utf8 ? L'█' : L'#';
		else if (left > 0)
			out[i] = g->utf8 ? eighths[left] : L'#';
		else
			out[i] = g->utf8 ? L'·' : L'-';
	}
	out[width] = L'\0';
}

/* One block per sample, eight levels. */
void
tui_glyph_spark(const struct tui_glyphs *g, wchar_t *out, const double *v,
    int n, double lo, double hi)
{
	static const wchar_t blocks[] = L"▁▂▃▄▅▆▇█";
	static const char ascii[] = "_.-~=+*#";
	int i, level;

	for (i = 0; i < n; i++) {
		if (isnan(v[i])) {
			out[i] = L' ';
			continue;
		}
		level = (int)(tui_glyph_fraction(v[i], lo, hi) * 7.999);
		out[i] = g->utf8 ? blocks[level] : (wchar_t)ascii[level];
	}
	out[n] = L'\0';
}

/* Display width of a wide string. */
int
tui_glyph_width(const wchar_t *w)
{
	int total = 0, c;

	for (; *w != L'\0'; w++) {
		c = wcwidth(*w);
		total += c < 0 ? 1 : c;
	}
	return total;
}

/* Multibyte to wide; bad bytes become '?'. */
void
tui_glyph_widen(wchar_t *out, size_t max, const char *s)
{
	mbstate_t st;
	size_t i = 0, n;
	wchar_t wc;

	memset(&st, 0, sizeof st);
	while (*s != '\0' && i + 1 < max) {
		n = mbrtowc(&wc, s, strlen(s), &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&st, 0, sizeof st);
			wc = L'?';
			n = 1;
		}
		if (wc < 0x20 || wc == 0x7f)
			wc = L'?';
		out[i++] = wc;
		s += n;
	}
	out[i] = L'\0';
}
