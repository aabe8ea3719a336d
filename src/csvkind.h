/*
 * csvkind.h: the column tables of the CSV kinds, shared by the writer
 * (csvlog.c) and the reader (csvread.c). Internal to the CSV layer.
 */
#ifndef SB_CSVKIND_H
#define SB_CSVKIND_H

#include <locale.h>
#include <stddef.h>

#include "csvlog.h"

enum csv_col_type {
	CSV_COL_TIME,		/* int64_t microseconds, written as seconds */
	CSV_COL_STR,		/* const char *, may be empty */
	CSV_COL_NAME,		/* const char *, must not be empty */
	CSV_COL_STATE,		/* const char *: up, degraded or down */
	CSV_COL_U32,		/* uint32_t, always written */
	CSV_COL_U32_OPT,	/* uint32_t, 0 written as empty */
	CSV_COL_U64,		/* uint64_t, always written */
	CSV_COL_DBL,		/* double, NaN written as empty */
	CSV_COL_DBL_NONNEG,	/* double >= 0, NaN written as empty */
	CSV_COL_PCT,		/* double 0-100, NaN written as empty */
	CSV_COL_WEIGHT,		/* int 0-255, -1 written as empty */
	CSV_COL_COUNT,		/* uint64_t, CSV_NO_COUNT written as empty */
};

/* One column: its header name, type, place in struct csv_row, decimals. */
struct csv_col {
	const char *name;
	enum csv_col_type type;
	size_t offset;
	int decimals;
};

struct csv_kind_info {
	const struct csv_col *cols;
	size_t ncols;
};

extern const struct csv_kind_info csv_kind_info[CSV_KINDS];

/* The C locale, for number conversions whatever setlocale() said. */
locale_t csv_c_locale(void);

/* Longest field the reader accepts, in bytes. */
#define CSV_FIELD_MAX (1024 * 1024)

#endif
