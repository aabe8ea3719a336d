/*
 * tui-layout.c: where the panes go. Wide terminals put the raster and the
 * synapses side by side; narrow ones stack the panes, which shrink and
 * then collapse (links first, then log and synapses) below 24 rows.
 */
#include "config.h"

#include <string.h>

#include "tui.h"

/* Where every pane goes for a terminal of rows x cols. */
void
tui_layout(struct tui_layout *l, int rows, int cols, size_t nsyn,
    size_t nlinks)
{
	int avail, syn, links, log, raster, right, want_syn;

	memset(l, 0, sizeof *l);
	l->line_y = rows - 1;
	l->status_y = rows - 2;
	avail = rows - 2;
	if (avail < 3 || cols < 10) {
		/* only the command line (and status) survive */
		if (avail > 0)
			l->raster_h = 0;
		return;
	}
	want_syn = (int)(nsyn > 0 ? nsyn : 1) + 1;
	links = (int)(nlinks > 0 ? nlinks + 2 : 2);
	if (links > 8)
		links = 8;
	if (cols >= 120 && avail >= 16) {
		/* wide: raster left, synapses right, links and log below */
		log = avail / 4 < 4 ? 4 : avail / 4 > 14 ? 14 : avail / 4;
		if (links > avail / 5)
			links = avail / 5 > 2 ? avail / 5 : 2;
		raster = avail - log - links;
		right = cols * 9 / 20;
		if (right > 130)
			right = 130;
		l->raster_y = 0;
		l->raster_x = 0;
		l->raster_h = raster;
		l->raster_w = cols - right;
		l->syn_y = 0;
		l->syn_x = cols - right;
		l->syn_h = raster;
		l->syn_w = right;
		l->link_y = raster;
		l->link_h = links;
		l->link_w = cols;
		l->log_y = raster + links;
		l->log_h = log;
		l->log_w = cols;
		return;
	}
	/* narrow: a stack; panes shrink, then collapse, below 24 rows */
	if (avail >= 16) {
		log = avail / 5 < 3 ? 3 : avail / 5;
		syn = want_syn < avail / 4 ? want_syn : avail / 4;
		if (syn < 3)
			syn = 3;
		/* every site's link before the raster's last rows */
		if (links > 5 && avail < 30)
			links = 5;
	} else if (avail >= 10) {
		log = 3;
		syn = 3;
		links = 1;
	} else if (avail >= 6) {
		log = 2;
		syn = 2;
		links = 0;
	} else {
		log = 0;
		syn = avail >= 4 ? 1 : 0;
		links = 0;
	}
	raster = avail - log - syn - links;
	l->raster_h = raster;
	l->raster_w = cols;
	l->syn_y = raster;
	l->syn_h = syn;
	l->syn_w = cols;
	l->link_y = raster + syn;
	l->link_h = links;
	l->link_w = cols;
	l->log_y = raster + syn + links;
	l->log_h = log;
	l->log_w = cols;
}
