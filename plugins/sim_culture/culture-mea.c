/* culture-mea.c: electrode layouts of the supported arrays. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "culture.h"
#include "sb-args.h"

/*
 * Square grids with the corners cut off, indices in column-major order
 * (column by column, as MEA labels "12".."87" read):
 *   60:   8x8 without one electrode at each corner (electrode "15",
 *         index 3, is the reference and records nothing);
 *   120:  12x12 without a 3-step triangle (6 electrodes) at each corner;
 *   256, 1024, 4096: full 16x16, 32x32, 64x64 grids.
 */
static const struct {
	uint32_t electrodes;
	int side;
	int cut;
} culture_mea_layouts[] = {
	{ 60, 8, 1 },
	{ 120, 12, 3 },
	{ 256, 16, 0 },
	{ 1024, 32, 0 },
	{ 4096, 64, 0 },
};

/* Find the layout of an array size; -1 if unsupported. */
static int
culture_mea_find(uint32_t electrodes)
{
	size_t i;

	for (i = 0; i < sizeof culture_mea_layouts /
	    sizeof culture_mea_layouts[0]; i++) {
		if (culture_mea_layouts[i].electrodes == electrodes)
			return ((int)i);
	}
	return (-1);
}

/* Is this a supported array size? */
int
culture_mea_valid(uint32_t electrodes)
{
	return (culture_mea_find(electrodes) != -1);
}

/* Is grid cell (x, y) cut off at a corner? */
static int
culture_mea_cut(int side, int cut, int x, int y)
{
	int	dx = x < side - 1 - x ? x : side - 1 - x;
	int	dy = y < side - 1 - y ? y : side - 1 - y;

	return (dx + dy < cut);
}

/* Grid position of an electrode; -1 if the size or index is invalid. */
int
culture_mea_grid(uint32_t electrodes, uint32_t index, int *x, int *y)
{
	int		l = culture_mea_find(electrodes), side, cut, cx, cy;
	uint32_t	n = 0;

	if (l == -1 || index >= electrodes)
		return (-1);
	side = culture_mea_layouts[l].side;
	cut = culture_mea_layouts[l].cut;
	for (cx = 0; cx < side; cx++) {
		for (cy = 0; cy < side; cy++) {
			if (culture_mea_cut(side, cut, cx, cy))
				continue;
			if (n++ == index) {
				*x = cx;
				*y = cy;
				return (0);
			}
		}
	}
	return (-1);
}

/* Parse a list of electrodes "3,17,40-45" into set[]; -1 with *cause. */
int
culture_mea_parse_list(const char *list, uint32_t electrodes, uint8_t *set,
    char **cause)
{
	const char	*p = list;
	char		*end;
	unsigned long	 lo, hi, i;

	while (*p != '\0') {
		errno = 0;
		if (*p < '0' || *p > '9')
			goto bad;
		lo = strtoul(p, &end, 10);
		if (errno != 0 || end == p)
			goto bad;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto bad;
			hi = strtoul(p, &end, 10);
			if (errno != 0 || end == p || hi < lo)
				goto bad;
		}
		if (hi >= electrodes) {
			sb_cause(cause, "sim_culture: inactive electrode %lu "
			    "out of range (have 0-%u)", hi, electrodes - 1);
			return (-1);
		}
		for (i = lo; i <= hi; i++)
			set[i] = 1;
		if (*end == ',')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	return (0);

bad:
	sb_cause(cause, "sim_culture: bad inactive electrode list '%s' "
	    "(expected e.g. 3,17,40-45)", list);
	return (-1);
}
