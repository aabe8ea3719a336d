/* fake-host.c: a host for plugin tests that records what a plugin does. */
#include "config.h"

#include <sys/eventfd.h>

#include <dlfcn.h>
#include <elf.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake-host.h"

/* host->wake of every instance: one eventfd for the process. */
static pthread_once_t fake_wake_once = PTHREAD_ONCE_INIT;
static int fake_wake_fd = -1;
static uint64_t fake_wakes;

/* Make the eventfd (once). */
static void
fake_wake_init(void)
{
	fake_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/* host->log: keep the line (and the last error); echo it if asked. */
static void __attribute__((format(printf, 3, 4)))
fake_log(struct sb_plugin *p, enum sb_log_level level, const char *fmt, ...)
{
	char	line[FAKE_LOG_LEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (level == SB_LOG_ERROR) {
		p->errors++;
		memcpy(p->error, line, sizeof line);
	}
	if (p->nlogs < FAKE_LOGS)
		memcpy(p->logs[p->nlogs++], line, sizeof line);
	if (p->echo && (!p->quiet || level == SB_LOG_ERROR))
		fprintf(stderr, "# [%s] %s\n", p->site, line);
}

/* host->arg: look the key up in the test's table. */
static const char *
fake_arg(struct sb_plugin *p, const char *key)
{
	int	i;

	for (i = 0; i < FAKE_ARGS && p->args[i][0] != NULL; i++) {
		if (strcmp(p->args[i][0], key) == 0)
			return (p->args[i][1]);
	}
	return (NULL);
}

/* host->site */
static const char *
fake_site(struct sb_plugin *p)
{
	return (p->site);
}

/* host->seed */
static uint64_t
fake_seed(struct sb_plugin *p)
{
	return (p->seed);
}

/* host->fast */
static int
fake_fast(struct sb_plugin *p)
{
	return (p->fast);
}

/* host->now_us */
static int64_t
fake_now(struct sb_plugin *p)
{
	return (p->now);
}

/* Take over data as a host does: refused registrations free it now. */
static int
fake_register(struct sb_plugin *p, void *data, void (*free_func)(void *))
{
	struct fake_registration	*regs;

	if (p->refuse) {
		if (free_func != NULL)
			free_func(data);
		return (-1);
	}
	regs = realloc(p->regs, (p->nregs + 1) * sizeof *regs);
	if (regs == NULL) {
		if (free_func != NULL)
			free_func(data);
		return (-1);
	}
	p->regs = regs;
	p->regs[p->nregs].data = data;
	p->regs[p->nregs].free_func = free_func;
	p->nregs++;
	p->data = data;
	p->free_func = free_func;
	p->registered++;
	return (0);
}

/* host->register_neurons */
static int
fake_register_neurons(struct sb_plugin *p, const struct sb_neurons *n,
    void *data, void (*free_func)(void *))
{
	if (fake_register(p, data, free_func) != 0)
		return (-1);
	p->neurons = *n;
	if (p->npops < FAKE_POPS) {
		p->pops[p->npops] = *n;
		p->pops_data[p->npops++] = data;
	}
	return (0);
}

/* host->register_synapses */
static int
fake_register_synapses(struct sb_plugin *p, const struct sb_synapses *s,
    void *data, void (*free_func)(void *))
{
	if (fake_register(p, data, free_func) != 0)
		return (-1);
	p->synapses = *s;
	p->synapses_data = data;
	return (0);
}

/* host->register_transport */
static int
fake_register_transport(struct sb_plugin *p, const struct sb_transport *t,
    void *data, void (*free_func)(void *))
{
	if (fake_register(p, data, free_func) != 0)
		return (-1);
	p->t = *t;
	return (0);
}

/* host->register_link */
static int
fake_register_link(struct sb_plugin *p, const struct sb_link *l, void *data,
    void (*free_func)(void *))
{
	if (fake_register(p, data, free_func) != 0)
		return (-1);
	p->link = *l;
	p->link_data = data;
	p->nlinks++;
	return (0);
}

/* host->register_spike_tap */
static int
fake_register_spike_tap(struct sb_plugin *p, const char *population,
    void (*fn)(void *, const struct sb_event *, size_t), void *data,
    void (*free_func)(void *))
{
	if (fake_register(p, data, free_func) != 0)
		return (-1);
	snprintf(p->tap_population, sizeof p->tap_population, "%s",
	    population);
	p->tap_fn = fn;
	p->tap_data = data;
	return (0);
}

/* host->queue_command: kept for the test to read */
static int
fake_queue_command(struct sb_plugin *p, const char *source,
    const char *line)
{
	(void)source;
	if (p->nqueued == FAKE_QUEUED)
		return (-1);
	snprintf(p->queued[p->nqueued++], FAKE_LOG_LEN, "%s", line);
	return (0);
}

/* host->register_command */
static int
fake_register_command(struct sb_plugin *p, const struct sb_command *c,
    void *data, void (*free_func)(void *))
{
	if (p->ncmds == FAKE_COMMANDS) {
		if (free_func != NULL)
			free_func(data);
		return (-1);
	}
	if (fake_register(p, data, free_func) != 0)
		return (-1);
	p->cmds[p->ncmds++] = *c;
	return (0);
}

/* host->emit: keep the event; -1 from the emitter's limit on. */
static int
fake_emit(struct sb_emitter *em, const struct sb_event *ev)
{
	struct sb_plugin	*p = em->p;
	struct sb_event		*events;
	size_t			 n;

	if (p->nevents >= em->limit)
		return (-1);
	if (p->nevents == p->eventsalloc) {
		n = p->eventsalloc == 0 ? 1024 : p->eventsalloc * 2;
		if ((events = realloc(p->events, n * sizeof *events)) == NULL)
			return (-1);
		p->events = events;
		p->eventsalloc = n;
	}
	p->events[p->nevents++] = *ev;
	return (0);
}

/* host->reply: append one line. */
static void __attribute__((format(printf, 2, 3)))
fake_reply(struct sb_reply *r, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (r->len >= sizeof r->text - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->len += (size_t)n;
	if (r->len >= sizeof r->text - 1) {
		r->len = sizeof r->text - 1;
		return;
	}
	r->text[r->len++] = '\n';
	r->text[r->len] = '\0';
}

/* host->deliver: by default events must come with index 0, 1, 2, ... */
static void
fake_deliver(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	size_t	i;

	if (p->on_deliver != NULL) {
		p->on_deliver(p, site, stream, ev, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (ev[i].index != (uint32_t)p->next_index)
			p->disorder++;
		p->next_index = ev[i].index + 1;
	}
	p->received += n;
}

/* host->gap: count it and say so. */
static void
fake_gap(struct sb_plugin *p, const char *site, const char *stream,
    uint64_t first, uint64_t last, const char *why)
{
	fprintf(stderr, "# [%s] gap %s/%s %llu-%llu: %s\n", p->site, site,
	    stream, (unsigned long long)first, (unsigned long long)last, why);
	snprintf(p->gap_why, sizeof p->gap_why, "%s", why);
	p->gaps++;
}

/* host->clock_update */
static void
fake_clock_update(struct sb_plugin *p, int64_t offset, int64_t unc)
{
	p->clock_updates++;
	p->offset_us = offset;
	p->uncertainty_us = unc;
}

/* host->remote_command: keep the last one. */
static void
fake_remote_command(struct sb_plugin *p, const char *from, uint64_t id,
    const char *line)
{
	p->commands++;
	p->command_id = id;
	snprintf(p->command_from, sizeof p->command_from, "%s", from);
	snprintf(p->command_line, sizeof p->command_line, "%s", line);
}

/* host->remote_result: keep the last one. */
static void
fake_remote_result(struct sb_plugin *p, uint64_t id, int status,
    const char *text)
{
	p->results++;
	p->result_id = id;
	p->result_status = status;
	snprintf(p->result_text, sizeof p->result_text, "%s", text);
}

/* host->wake: any thread; marks p and wakes the test's loop. */
static void
fake_wake(struct sb_plugin *p)
{
	uint64_t	one = 1;

	__atomic_store_n(&p->woken, 1, __ATOMIC_RELEASE);
	pthread_once(&fake_wake_once, fake_wake_init);
	__atomic_add_fetch(&fake_wakes, 1, __ATOMIC_RELAXED);
	if (fake_wake_fd != -1 && write(fake_wake_fd, &one, sizeof one) < 0)
		return;		/* full: a wake is pending anyway */
}

/* Wait up to timeout_us for a host->wake (cleared); 1 woken, 0 not. */
int
fake_host_wait(int64_t timeout_us)
{
	struct pollfd	pfd;
	struct timespec	ts;
	uint64_t	n;
	int		woken;

	pthread_once(&fake_wake_once, fake_wake_init);
	if (timeout_us < 0)
		timeout_us = 0;
	ts.tv_sec = (time_t)(timeout_us / 1000000);
	ts.tv_nsec = (long)(timeout_us % 1000000) * 1000;
	pfd.fd = fake_wake_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (fake_wake_fd == -1) {
		nanosleep(&ts, NULL);
		return (0);
	}
	woken = ppoll(&pfd, 1, &ts, NULL) > 0;
	if (read(fake_wake_fd, &n, sizeof n) < 0)
		n = 0;
	return (woken);
}

/* host->wake calls so far (all instances). */
uint64_t
fake_host_wakes(void)
{
	return (__atomic_load_n(&fake_wakes, __ATOMIC_RELAXED));
}

const struct sb_host_api fake_host = {
	.size = sizeof (struct sb_host_api),
	.log = fake_log,
	.arg = fake_arg,
	.site = fake_site,
	.seed = fake_seed,
	.fast = fake_fast,
	.now_us = fake_now,
	.register_neurons = fake_register_neurons,
	.register_synapses = fake_register_synapses,
	.register_transport = fake_register_transport,
	.register_command = fake_register_command,
	.register_link = fake_register_link,
	.register_spike_tap = fake_register_spike_tap,
	.queue_command = fake_queue_command,
	.emit = fake_emit,
	.reply = fake_reply,
	.deliver = fake_deliver,
	.gap = fake_gap,
	.remote_command = fake_remote_command,
	.remote_result = fake_remote_result,
	.clock_update = fake_clock_update,
	.wake = fake_wake,
};

/* A zeroed instance with site, seed and fast mode. */
struct sb_plugin *
fake_plugin_new(const char *site, uint64_t seed)
{
	struct sb_plugin	*p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return (NULL);
	p->site = site;
	p->seed = seed;
	p->fast = 1;
	return (p);
}

/* Add a key=value argument (past FAKE_ARGS - 1 they are dropped). */
void
fake_plugin_arg(struct sb_plugin *p, const char *key, const char *value)
{
	if (p->nargs == FAKE_ARGS - 1)
		return;
	p->args[p->nargs][0] = key;
	p->args[p->nargs][1] = value;
	p->nargs++;
}

/* Add NULL-terminated key, value, ... arguments, then call init. */
int
fake_plugin_load(struct sb_plugin *p, sb_plugin_init_fn init, ...)
{
	const char	*key, *value;
	va_list		 ap;

	va_start(ap, init);
	while ((key = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		fake_plugin_arg(p, key, value);
	}
	va_end(ap);
	return (init(p, &fake_host));
}

/* As the host unloads: end, then free what was registered and recorded. */
void
fake_plugin_unload(struct sb_plugin *p, sb_plugin_end_fn end)
{
	size_t	i;

	if (end != NULL)
		end(p);
	for (i = p->nregs; i > 0; i--) {
		if (p->regs[i - 1].free_func != NULL)
			p->regs[i - 1].free_func(p->regs[i - 1].data);
	}
	free(p->regs);
	p->regs = NULL;
	p->nregs = 0;
	p->data = NULL;
	p->free_func = NULL;
	free(p->events);
	p->events = NULL;
	p->nevents = p->eventsalloc = 0;
}

/* Unload and free an instance from fake_plugin_new. */
void
fake_plugin_free(struct sb_plugin *p, sb_plugin_end_fn end)
{
	if (p == NULL)
		return;
	fake_plugin_unload(p, end);
	free(p);
}

/* Did a kept log line contain s? */
int
fake_plugin_logged(struct sb_plugin *p, const char *s)
{
	int	i;

	for (i = 0; i < p->nlogs; i++) {
		if (strstr(p->logs[i], s) != NULL)
			return (1);
	}
	return (0);
}

/* Set *cause to a formatted message; returns -1. */
static int __attribute__((format(printf, 2, 3)))
fake_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
	return (-1);
}

/* Read the whole file at path; NULL if it cannot. */
static unsigned char *
fake_module_read(const char *path, size_t *size)
{
	unsigned char	*buf;
	FILE		*f;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n)) == NULL) {
		fclose(f);
		return (NULL);
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*size = (size_t)n;
	return (buf);
}

/* Check the module's dynamic symbols: exactly the four ABI ones defined. */
static int
fake_module_exports(const char *path, char **cause)
{
	static const char	*abi[] = { "synbridge_plugin_name",
				    "synbridge_plugin_api_version",
				    "synbridge_plugin_init",
				    "synbridge_plugin_end" };
	unsigned char		*buf;
	const Elf64_Ehdr	*eh;
	const Elf64_Shdr	*sh, *dynsym = NULL;
	const Elf64_Sym		*sym;
	const char		*strtab, *name;
	size_t			 size, i, j, nsym, found = 0;
	int			 rc = 0;

	if ((buf = fake_module_read(path, &size)) == NULL)
		return (fake_cause(cause, "%s: cannot read", path));
	eh = (const Elf64_Ehdr *)buf;
	if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shoff == 0 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof *sh > size) {
		free(buf);
		return (fake_cause(cause, "%s: not a 64-bit ELF file", path));
	}
	sh = (const Elf64_Shdr *)(buf + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_DYNSYM)
			dynsym = &sh[i];
	}
	if (dynsym == NULL || dynsym->sh_link >= eh->e_shnum ||
	    dynsym->sh_offset + dynsym->sh_size > size ||
	    sh[dynsym->sh_link].sh_offset + sh[dynsym->sh_link].sh_size >
	    size) {
		free(buf);
		return (fake_cause(cause, "%s: no dynamic symbols", path));
	}
	sym = (const Elf64_Sym *)(buf + dynsym->sh_offset);
	nsym = dynsym->sh_size / sizeof *sym;
	strtab = (const char *)buf + sh[dynsym->sh_link].sh_offset;
	for (i = 0; i < nsym && rc == 0; i++) {
		if (sym[i].st_shndx == SHN_UNDEF ||
		    ELF64_ST_BIND(sym[i].st_info) == STB_LOCAL ||
		    sym[i].st_name >= sh[dynsym->sh_link].sh_size)
			continue;
		name = strtab + sym[i].st_name;
		/* AddressSanitizer's ODR indicators of the ABI's globals */
		if (strncmp(name, "__odr_asan", 10) == 0)
			continue;
		for (j = 0; j < 4; j++) {
			if (strcmp(name, abi[j]) == 0)
				break;
		}
		if (j == 4)
			rc = fake_cause(cause, "%s exports %s", path, name);
		else
			found++;
	}
	free(buf);
	if (rc == 0 && found != 4)
		rc = fake_cause(cause, "%s exports %zu of the 4 ABI symbols",
		    path, found);
	return (rc);
}

/* Open a built module and check that it exports the ABI and only that. */
void *
fake_module_open(const char *rel, const char *name, sb_plugin_init_fn *init,
    sb_plugin_end_fn *end, char **cause)
{
	const char	*top = getenv("top_builddir");
	const char	*got, *version;
	char		 path[4096];
	void		*h;

	snprintf(path, sizeof path, "%s/%s", top != NULL ? top : ".", rel);
	if (fake_module_exports(path, cause) != 0)
		return (NULL);
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fake_cause(cause, "cannot load %s: %s (run make first)", path,
		    dlerror());
		return (NULL);
	}
	got = dlsym(h, "synbridge_plugin_name");
	version = dlsym(h, "synbridge_plugin_api_version");
	*(void **)init = dlsym(h, "synbridge_plugin_init");
	*(void **)end = dlsym(h, "synbridge_plugin_end");
	if (got == NULL || version == NULL || *init == NULL || *end == NULL) {
		fake_cause(cause, "%s lacks an ABI symbol", path);
		dlclose(h);
		return (NULL);
	}
	if (strcmp(got, name) != 0 ||
	    strcmp(version, SB_PLUGIN_API_VERSION) != 0) {
		fake_cause(cause, "%s is %s, %s (wanted %s, %s)", path, got,
		    version, name, SB_PLUGIN_API_VERSION);
		dlclose(h);
		return (NULL);
	}
	return (h);
}
