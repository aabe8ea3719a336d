/* cmd-table.c: every console command, in the order help lists them. */
#include "config.h"

#include "cmd.h"

extern const struct cmd_entry cmd_help_entry, cmd_quit_entry,
    cmd_site_entry, cmd_sites_entry, cmd_load_entry, cmd_unload_entry,
    cmd_plugins_entry, cmd_synapse_entry, cmd_synapses_entry,
    cmd_potentiate_entry, cmd_depress_entry, cmd_read_entry,
    cmd_stim_entry, cmd_rule_entry, cmd_record_entry, cmd_export_entry,
    cmd_mark_entry, cmd_source_entry, cmd_wait_entry, cmd_at_entry,
    cmd_remote_entry, cmd_link_entry, cmd_ifenv_entry, cmd_stop_entry,
    cmd_resume_entry, cmd_latency_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_help_entry,
	&cmd_quit_entry,
	&cmd_site_entry,
	&cmd_sites_entry,
	&cmd_load_entry,
	&cmd_unload_entry,
	&cmd_plugins_entry,
	&cmd_synapse_entry,
	&cmd_synapses_entry,
	&cmd_potentiate_entry,
	&cmd_depress_entry,
	&cmd_read_entry,
	&cmd_stim_entry,
	&cmd_rule_entry,
	&cmd_record_entry,
	&cmd_export_entry,
	&cmd_mark_entry,
	&cmd_source_entry,
	&cmd_wait_entry,
	&cmd_at_entry,
	&cmd_remote_entry,
	&cmd_link_entry,
	&cmd_latency_entry,
	&cmd_ifenv_entry,
	&cmd_stop_entry,
	&cmd_resume_entry,
	NULL
};
