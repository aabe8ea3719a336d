/*
 * rhx-emu.c: the Intan RHX acquisition software as a client sees it over
 * TCP (command port, spike data port, waveform data port), with a simulated
 * culture behind it, on IPv4 loopback, for testing a client without RHX.
 * Written from the protocol facts in the hardware notes only (RHX is GPL;
 * no upstream code).
 *
 *   rhx-emu --command-port P --spike-port P [--waveform-port P]
 *       [--controller stim|record] [--sample-rate HZ] [--step-ua UA]
 *       [--channels A-000..A-031[,B-000..B-015...]] [--spike-rate HZ]
 *       [--artifact-fraction F] [--seed N] [--control FIFO]
 *       [--stay-pending] [--verbose]
 *
 * Port 0 picks a free port; a port once bound is kept for the life of the
 * process (re-arming and "restart" listen on it again; a data port moves
 * only when a client sets TCPSpikeDataOutputPort or
 * TCPWaveformDataOutputPort and then executes Connect...). Without
 * --waveform-port there is no waveform port (printed as 0; its Connect and
 * Disconnect are accepted and ignored). Defaults: --controller stim,
 * --sample-rate 30000 (stim: 20000, 25000 or 30000; record: RHD's list),
 * --step-ua 1 (0.01 to 10 in RHS's steps), --channels A-000..A-031,
 * --spike-rate 5, --artifact-fraction 0, --seed 1.
 *
 * The culture: every channel crosses threshold as a Poisson process at the
 * spike rate; a stimulation pulse on a channel gives one artifact record
 * (id 0x80) on it at the pulse's frame, and a spike 2-10 ms later on it
 * with probability 1 - exp(-I / 25 uA), on its neighbours (same port,
 * numbers +-1, +-2) with 1 - exp(-I / 50 uA) and 1 - exp(-I / 100 uA), I
 * the larger phase amplitude delivered. --artifact-fraction flags that
 * fraction of crossings 0x80 too. Only channels with
 * TCPDataOutputEnabledSpike produce records. A pulse counts as delivered
 * (stats, stim_log) when the batch holding its frame is generated, i.e. at
 * the next write after it.
 *
 * stdout, one line per event, flushed:
 *   ready COMMAND_PORT SPIKE_PORT WAVEFORM_PORT   listening (again after
 *                                 "restart")
 *   connected NAME PORT           a client was accepted (the port stops
 *                                 listening); NAME command|spike|waveform
 *   disconnected NAME PORT        the client left or was dropped, or
 *                                 Disconnect... was executed: the port is
 *                                 not listening
 *   listening NAME PORT           a port listens again (rearm, Connect...,
 *                                 --stay-pending)
 *   runmode MODE frame=N us=T     acquisition started (Run|Record|Trigger)
 *                                 or stopped (Stop, N = last frame)
 *   triggered FN CH... us=T frame=N   a ManualStimTrigger command: the
 *                                 channels it fired ("none" if none), T the
 *                                 CLOCK_MONOTONIC time in us when the
 *                                 command was handled, N the current frame
 *   restarted                     before the ready line of a "restart"
 *   stats ...                     on "stats" and at exit (see below)
 *   stim CH FRAME AMPLITUDE_UA FIRST_PHASE_US   on "stim_log", one line per
 *                                 delivered pulse, oldest first (the last
 *                                 4096), then "stim_log end TOTAL"
 * stderr gets one line per error reply and per fault, and with --verbose
 * one per command and reply.
 *
 * Control FIFO (--control PATH is created with mkfifo; one command a line,
 * e.g. printf 'stats\n' >PATH):
 *   split [off]     from now on write the spike stream in pieces of 1..13
 *                   bytes, 0.2 ms apart (back to back past 64 KiB queued)
 *   badmagic        the next spike record carries a wrong magic
 *   garbage N       N random bytes on the spike socket now (N <= 1 MiB)
 *   restart         close every socket and come back as a freshly started
 *                   RHX: stopped, default settings, the same ports
 *   stall MS        read no command for MS ms (acquisition goes on)
 *   rearm           the command port listens again after a client left
 *                   (the GUI's Connect click)
 *   hangup NAME     drop the client of port NAME (command|spike|waveform)
 *   rate HZ         spontaneous spike rate per channel from now on
 *   stats           print "stats commands=N gets=N sets=N errors=N
 *                   records=N stims=N triggers=N runs=N clients=N"
 *   stim_log        print the delivered pulses (see above)
 *   quit            exit as on SIGTERM
 * Counters (kept across "restart"): commands = non-blank commands parsed,
 * gets = gets answered, sets = sets accepted, errors = error replies,
 * records = spike records queued to a spike client, stims = pulses
 * delivered (per channel), triggers = ManualStimTrigger commands accepted,
 * runs = starts of acquisition, clients = connections accepted on any port.
 *
 * The command port follows the facts: every read() is parsed as one string
 * (so commands sent back to back without ';' merge, as in RHX), split on
 * ';', blank commands dropped, words split on spaces, case-insensitive.
 * "get X" answers "Return: X VALUE" with no terminator, a successful "set"
 * or "execute" answers nothing, an error answers free text. Acquisition
 * (RunMode Run, or Record/Trigger once Filename.Path and
 * Filename.BaseFilename are set; no file is written) writes the data ports
 * once per TCPNumberDataBlocksPerWrite x 128 frames of CLOCK_MONOTONIC
 * time; timestamps are frame indices since the run started.
 *
 * Where the facts are silent or unconfirmed, decided here (see also the
 * comments at each place):
 * - A fresh start (and "restart") listens on all ports at once, as if the
 *   operator had clicked Connect on each.
 * - The recording-only controller's Type is ControllerRecordUSB3; on it,
 *   stimulation parameters, StimStepSizeMicroAmps, the DC and Stim bands
 *   and the stimulation executes are errors.
 * - get replies name the parameter in its canonical spelling
 *   ("Return: A-010.StimEnabled True"); booleans read True/False; numbers
 *   as %g; RunMode as Run/Record/Trigger/Stop.
 * - Error texts other than the three quoted in the facts are invented.
 * - Amplitudes above 255 steps are refused with an error (RHX may warn in
 *   its GUI only); amplitudes off the step are accepted and rounded to it
 *   when delivered (the GUI warning is logged on stderr).
 * - Timestamps restart at 0 on every run; CurrentTimestamp is the frame
 *   the clock has reached (while stopped: where the last run ended).
 *   Complete blocks not yet written are written at Stop.
 * - Stopped, a trigger is accepted and fires nothing. A trigger key is a
 *   line: On raises it, Off lowers it, Pulse does both; a channel with
 *   TriggerHighOrLow High fires on the rise, Low on the fall, Edge and
 *   Level alike (no repetition while a level is held). A channel inside
 *   its train or refractory period ignores a trigger.
 * - Triphasic is first, second, first phase. Default Shape Biphasic,
 *   Polarity NegativeFirst, TriggerEdgeOrLevel Edge, TriggerHighOrLow
 *   High, PulseOrTrain SinglePulse, amplitudes 0, delays 0.
 * - The waveform frame holds, per enabled channel in channel order, its
 *   enabled bands WIDE, LOW, HIGH, DC, STIM; no aux, VDD, ADC or digital
 *   words. STIM = amplitude in steps | 0x100 for a negative phase.
 * - Set while running: TCPNumberDataBlocksPerWrite applies from the next
 *   write; the data-port host and port are refused.
 * - One client per port as the kernel allows it: a second client that
 *   connects before the first one is accepted completes its handshake in
 *   the backlog and is reset when the listener closes.
 * - A client that does not read: what exceeds a bounded queue (1 MiB
 *   replies, 8 MiB spikes, 64 MiB waveform) is dropped and logged, where
 *   RHX would block.
 */
#include "config.h"
#include "emu-util.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define RHX_EMU_FRAMES_PER_BLOCK 128
#define RHX_EMU_SPIKE_MAGIC 0x3AE2710FU
#define RHX_EMU_BAD_MAGIC 0x3AE2710EU
#define RHX_EMU_WAVE_MAGIC 0x2EF07A08U
#define RHX_EMU_RECORD_LEN 14
#define RHX_EMU_ID_SPIKE 1
#define RHX_EMU_ID_ARTIFACT 0x80
#define RHX_EMU_CHANNELS_MAX 1024
#define RHX_EMU_READ_MAX 65536		/* one command read */
#define RHX_EMU_REPLY_MAX 1024
#define RHX_EMU_STRING_MAX 256
#define RHX_EMU_CMD_OUT_MAX (1U << 20)
#define RHX_EMU_SPIKE_OUT_MAX (8U << 20)
#define RHX_EMU_WAVE_OUT_MAX (64U << 20)
#define RHX_EMU_EVENTS_MAX 65536
#define RHX_EMU_STIM_LOG_MAX 4096
#define RHX_EMU_GARBAGE_MAX (1U << 20)
#define RHX_EMU_SPLIT_GAP_NS 200000ULL
#define RHX_EMU_SPLIT_BACKLOG 65536
#define RHX_EMU_BATCHES_PER_PASS 16
#define RHX_EMU_SHAPE_MAX 256
#define RHX_EMU_UV_PER_BIT 0.195

/* The three ports. */
enum {
	RHX_EMU_COMMAND,
	RHX_EMU_SPIKE,
	RHX_EMU_WAVEFORM,
	RHX_EMU_NPORTS
};

/* Kinds of parameter value. */
enum rhx_emu_kind {
	RHX_EMU_BOOL,
	RHX_EMU_INT,
	RHX_EMU_NUM,
	RHX_EMU_AMP,	/* µA, 0..255 steps */
	RHX_EMU_ENUM,
	RHX_EMU_SOURCE,	/* DigitalIn01..16, AnalogIn01..08, KeyPressF1..F8 */
	RHX_EMU_STRING,
	RHX_EMU_SPECIAL	/* computed, read-only */
};

#define RHX_EMU_RO 0x01		/* read-only over TCP */
#define RHX_EMU_STOPPED 0x02	/* set only while stopped */
#define RHX_EMU_STIM 0x04	/* stimulation controller only */
#define RHX_EMU_SPACES 0x08	/* the value may contain spaces */
#define RHX_EMU_HOST 0x10	/* a data-output host */

/* A parameter: name, kind, range or values, default, flags. */
struct rhx_emu_param {
	const char		*name;
	enum rhx_emu_kind	 kind;
	double			 lo, hi, def;
	const char *const	*values;
	int			 flags;
};

static const char *const rhx_emu_bool_values[] = { "False", "True", NULL };
static const char *const rhx_emu_runmode_values[] = { "Stop", "Run",
	"Record", "Trigger", NULL };
static const char *const rhx_emu_shape_values[] = { "Biphasic",
	"BiphasicWithInterphaseDelay", "Triphasic", NULL };
static const char *const rhx_emu_polarity_values[] = { "NegativeFirst",
	"PositiveFirst", NULL };
static const char *const rhx_emu_edge_values[] = { "Edge", "Level", NULL };
static const char *const rhx_emu_highlow_values[] = { "High", "Low", NULL };
static const char *const rhx_emu_train_values[] = { "SinglePulse",
	"PulseTrain", NULL };

enum { RHX_EMU_STOP, RHX_EMU_RUN, RHX_EMU_RECORD, RHX_EMU_TRIGGER };
enum { RHX_EMU_BIPHASIC, RHX_EMU_BIPHASIC_DELAY, RHX_EMU_TRIPHASIC };
enum { RHX_EMU_NEGATIVE_FIRST, RHX_EMU_POSITIVE_FIRST };
enum { RHX_EMU_SINGLE_PULSE, RHX_EMU_PULSE_TRAIN };
enum { RHX_EMU_TRIGGER_HIGH, RHX_EMU_TRIGGER_LOW };

#define RHX_EMU_SOURCE_KEY0 24	/* KeyPressF1 */
#define RHX_EMU_SOURCE_COUNT 32

/* Global parameters. */
enum {
	RHX_EMU_G_TYPE,
	RHX_EMU_G_SAMPLE_RATE,
	RHX_EMU_G_STEP,
	RHX_EMU_G_RUNMODE,
	RHX_EMU_G_TIMESTAMP,
	RHX_EMU_G_TIME_SECONDS,
	RHX_EMU_G_BLOCKS,
	RHX_EMU_G_WAVE_HOST,
	RHX_EMU_G_WAVE_PORT,
	RHX_EMU_G_SPIKE_HOST,
	RHX_EMU_G_SPIKE_PORT,
	RHX_EMU_G_ABS_THRESHOLDS,
	RHX_EMU_G_RMS_MULTIPLE,
	RHX_EMU_G_NEG_RELATIVE,
	RHX_EMU_G_ARTIFACT_SUPPRESSION,
	RHX_EMU_G_FILE_PATH,
	RHX_EMU_G_FILE_BASE,
	RHX_EMU_G_NOTE1,
	RHX_EMU_G_NOTE2,
	RHX_EMU_G_NOTE3,
	RHX_EMU_G_COUNT
};

static const struct rhx_emu_param rhx_emu_globals[RHX_EMU_G_COUNT] = {
	[RHX_EMU_G_TYPE] = { "Type", RHX_EMU_SPECIAL, 0, 0, 0, NULL,
	    RHX_EMU_RO },
	[RHX_EMU_G_SAMPLE_RATE] = { "SampleRateHertz", RHX_EMU_SPECIAL, 0, 0,
	    0, NULL, RHX_EMU_RO },
	[RHX_EMU_G_STEP] = { "StimStepSizeMicroAmps", RHX_EMU_SPECIAL, 0, 0,
	    0, NULL, RHX_EMU_RO | RHX_EMU_STIM },
	[RHX_EMU_G_RUNMODE] = { "RunMode", RHX_EMU_ENUM, 0, 0, RHX_EMU_STOP,
	    rhx_emu_runmode_values, 0 },
	[RHX_EMU_G_TIMESTAMP] = { "CurrentTimestamp", RHX_EMU_SPECIAL, 0, 0,
	    0, NULL, RHX_EMU_RO },
	[RHX_EMU_G_TIME_SECONDS] = { "CurrentTimeSeconds", RHX_EMU_SPECIAL, 0,
	    0, 0, NULL, RHX_EMU_RO },
	[RHX_EMU_G_BLOCKS] = { "TCPNumberDataBlocksPerWrite", RHX_EMU_INT, 1,
	    100, 10, NULL, 0 },
	[RHX_EMU_G_WAVE_HOST] = { "TCPWaveformDataOutputHost",
	    RHX_EMU_STRING, 0, 0, 0, NULL, RHX_EMU_STOPPED | RHX_EMU_HOST },
	[RHX_EMU_G_WAVE_PORT] = { "TCPWaveformDataOutputPort", RHX_EMU_INT, 1,
	    65535, 0, NULL, RHX_EMU_STOPPED },
	[RHX_EMU_G_SPIKE_HOST] = { "TCPSpikeDataOutputHost", RHX_EMU_STRING,
	    0, 0, 0, NULL, RHX_EMU_STOPPED | RHX_EMU_HOST },
	[RHX_EMU_G_SPIKE_PORT] = { "TCPSpikeDataOutputPort", RHX_EMU_INT, 1,
	    65535, 0, NULL, RHX_EMU_STOPPED },
	[RHX_EMU_G_ABS_THRESHOLDS] = { "AbsoluteThresholdsEnabled",
	    RHX_EMU_BOOL, 0, 1, 1, rhx_emu_bool_values, 0 },
	[RHX_EMU_G_RMS_MULTIPLE] = { "RmsMultipleThreshold", RHX_EMU_NUM, 3,
	    20, 4, NULL, 0 },
	[RHX_EMU_G_NEG_RELATIVE] = { "NegativeRelativeThreshold",
	    RHX_EMU_BOOL, 0, 1, 1, rhx_emu_bool_values, 0 },
	[RHX_EMU_G_ARTIFACT_SUPPRESSION] = {
	    "ArtifactSuppressionThresholdMicroVolts", RHX_EMU_NUM, 0, 5000,
	    2500, NULL, 0 },
	[RHX_EMU_G_FILE_PATH] = { "Filename.Path", RHX_EMU_STRING, 0, 0, 0,
	    NULL, RHX_EMU_SPACES },
	[RHX_EMU_G_FILE_BASE] = { "Filename.BaseFilename", RHX_EMU_STRING, 0,
	    0, 0, NULL, RHX_EMU_SPACES },
	[RHX_EMU_G_NOTE1] = { "Note1", RHX_EMU_STRING, 0, 0, 0, NULL,
	    RHX_EMU_SPACES },
	[RHX_EMU_G_NOTE2] = { "Note2", RHX_EMU_STRING, 0, 0, 0, NULL,
	    RHX_EMU_SPACES },
	[RHX_EMU_G_NOTE3] = { "Note3", RHX_EMU_STRING, 0, 0, 0, NULL,
	    RHX_EMU_SPACES },
};

/* Per-channel parameters. */
enum {
	RHX_EMU_C_WIDE,
	RHX_EMU_C_LOW,
	RHX_EMU_C_HIGH,
	RHX_EMU_C_SPIKE,
	RHX_EMU_C_DC,
	RHX_EMU_C_STIMBAND,
	RHX_EMU_C_THRESHOLD,
	RHX_EMU_C_STIM_ENABLED,
	RHX_EMU_C_SHAPE,
	RHX_EMU_C_POLARITY,
	RHX_EMU_C_SOURCE,
	RHX_EMU_C_EDGE_LEVEL,
	RHX_EMU_C_HIGH_LOW,
	RHX_EMU_C_PULSE_TRAIN,
	RHX_EMU_C_NPULSES,
	RHX_EMU_C_FIRST_DURATION,
	RHX_EMU_C_SECOND_DURATION,
	RHX_EMU_C_INTERPHASE,
	RHX_EMU_C_FIRST_AMPLITUDE,
	RHX_EMU_C_SECOND_AMPLITUDE,
	RHX_EMU_C_POST_TRIGGER,
	RHX_EMU_C_TRAIN_PERIOD,
	RHX_EMU_C_REFRACTORY,
	RHX_EMU_C_PRE_SETTLE,
	RHX_EMU_C_POST_SETTLE,
	RHX_EMU_C_RECOVERY_ON,
	RHX_EMU_C_RECOVERY_OFF,
	RHX_EMU_C_ENABLE_SETTLE,
	RHX_EMU_C_MAINTAIN_SETTLE,
	RHX_EMU_C_ENABLE_RECOVERY,
	RHX_EMU_C_COUNT
};

#define RHX_EMU_CBOOL(n, f) { n, RHX_EMU_BOOL, 0, 1, 0, rhx_emu_bool_values, f }
#define RHX_EMU_CUS(n, hi, def) { n, RHX_EMU_NUM, 0, hi, def, NULL, \
	RHX_EMU_STIM }

static const struct rhx_emu_param rhx_emu_channel_params[RHX_EMU_C_COUNT] = {
	[RHX_EMU_C_WIDE] = RHX_EMU_CBOOL("TCPDataOutputEnabled", 0),
	[RHX_EMU_C_LOW] = RHX_EMU_CBOOL("TCPDataOutputEnabledLow", 0),
	[RHX_EMU_C_HIGH] = RHX_EMU_CBOOL("TCPDataOutputEnabledHigh", 0),
	[RHX_EMU_C_SPIKE] = RHX_EMU_CBOOL("TCPDataOutputEnabledSpike", 0),
	[RHX_EMU_C_DC] = RHX_EMU_CBOOL("TCPDataOutputEnabledDC",
	    RHX_EMU_STIM),
	[RHX_EMU_C_STIMBAND] = RHX_EMU_CBOOL("TCPDataOutputEnabledStim",
	    RHX_EMU_STIM),
	[RHX_EMU_C_THRESHOLD] = { "SpikeThresholdMicroVolts", RHX_EMU_INT,
	    -5000, 5000, -70, NULL, 0 },
	[RHX_EMU_C_STIM_ENABLED] = RHX_EMU_CBOOL("StimEnabled", RHX_EMU_STIM),
	[RHX_EMU_C_SHAPE] = { "Shape", RHX_EMU_ENUM, 0, 0, RHX_EMU_BIPHASIC,
	    rhx_emu_shape_values, RHX_EMU_STIM },
	[RHX_EMU_C_POLARITY] = { "Polarity", RHX_EMU_ENUM, 0, 0,
	    RHX_EMU_NEGATIVE_FIRST, rhx_emu_polarity_values, RHX_EMU_STIM },
	[RHX_EMU_C_SOURCE] = { "Source", RHX_EMU_SOURCE, 0,
	    RHX_EMU_SOURCE_COUNT - 1, 0, NULL, RHX_EMU_STIM },
	[RHX_EMU_C_EDGE_LEVEL] = { "TriggerEdgeOrLevel", RHX_EMU_ENUM, 0, 0, 0,
	    rhx_emu_edge_values, RHX_EMU_STIM },
	[RHX_EMU_C_HIGH_LOW] = { "TriggerHighOrLow", RHX_EMU_ENUM, 0, 0,
	    RHX_EMU_TRIGGER_HIGH, rhx_emu_highlow_values, RHX_EMU_STIM },
	[RHX_EMU_C_PULSE_TRAIN] = { "PulseOrTrain", RHX_EMU_ENUM, 0, 0,
	    RHX_EMU_SINGLE_PULSE, rhx_emu_train_values, RHX_EMU_STIM },
	[RHX_EMU_C_NPULSES] = { "NumberOfStimPulses", RHX_EMU_INT, 0, 256, 2,
	    NULL, RHX_EMU_STIM },
	[RHX_EMU_C_FIRST_DURATION] = RHX_EMU_CUS(
	    "FirstPhaseDurationMicroseconds", 5000, 100),
	[RHX_EMU_C_SECOND_DURATION] = RHX_EMU_CUS(
	    "SecondPhaseDurationMicroseconds", 5000, 100),
	[RHX_EMU_C_INTERPHASE] = RHX_EMU_CUS("InterphaseDelayMicroseconds",
	    5000, 100),
	[RHX_EMU_C_FIRST_AMPLITUDE] = { "FirstPhaseAmplitudeMicroAmps",
	    RHX_EMU_AMP, 0, 0, 0, NULL, RHX_EMU_STIM },
	[RHX_EMU_C_SECOND_AMPLITUDE] = { "SecondPhaseAmplitudeMicroAmps",
	    RHX_EMU_AMP, 0, 0, 0, NULL, RHX_EMU_STIM },
	[RHX_EMU_C_POST_TRIGGER] = RHX_EMU_CUS("PostTriggerDelayMicroseconds",
	    500000, 0),
	[RHX_EMU_C_TRAIN_PERIOD] = RHX_EMU_CUS("PulseTrainPeriodMicroseconds",
	    1e6, 10000),
	[RHX_EMU_C_REFRACTORY] = RHX_EMU_CUS("RefractoryPeriodMicroseconds",
	    1e6, 1000),
	[RHX_EMU_C_PRE_SETTLE] = RHX_EMU_CUS("PreStimAmpSettleMicroseconds",
	    500000, 0),
	[RHX_EMU_C_POST_SETTLE] = RHX_EMU_CUS("PostStimAmpSettleMicroseconds",
	    500000, 0),
	[RHX_EMU_C_RECOVERY_ON] = RHX_EMU_CUS(
	    "PostStimChargeRecovOnMicroseconds", 500000, 0),
	[RHX_EMU_C_RECOVERY_OFF] = RHX_EMU_CUS(
	    "PostStimChargeRecovOffMicroseconds", 500000, 0),
	[RHX_EMU_C_ENABLE_SETTLE] = RHX_EMU_CBOOL("EnableAmpSettle",
	    RHX_EMU_STIM),
	[RHX_EMU_C_MAINTAIN_SETTLE] = RHX_EMU_CBOOL("MaintainAmpSettle",
	    RHX_EMU_STIM),
	[RHX_EMU_C_ENABLE_RECOVERY] = RHX_EMU_CBOOL("EnableChargeRecovery",
	    RHX_EMU_STIM),
};

/* Executes refused while running and otherwise accepted as no-ops. */
static const char *const rhx_emu_stopped_actions[] = {
	"MeasureImpedance", "RescanPorts", "UploadAmpSettleSettings",
	"UploadChargeRecoverySettings", "UploadBandwidthSettings",
	"SetSpikeDetectionThresholds", "LoadSettingsFile", "SaveSettingsFile",
	"LoadStimulationSettingsFile", "SaveStimulationSettingsFile", NULL
};

/* Sample rates each controller offers, as RHX names them. */
struct rhx_emu_rate {
	const char	*text;
	double		 hz;
	int		 rhs;
};

static const struct rhx_emu_rate rhx_emu_rates[] = {
	{ "1000", 1000, 0 }, { "1250", 1250, 0 }, { "1500", 1500, 0 },
	{ "2000", 2000, 0 }, { "2500", 2500, 0 }, { "3000", 3000, 0 },
	{ "3333.3", 10000.0 / 3.0, 0 }, { "4000", 4000, 0 },
	{ "5000", 5000, 0 }, { "6250", 6250, 0 }, { "8000", 8000, 0 },
	{ "10000", 10000, 0 }, { "12500", 12500, 0 }, { "15000", 15000, 0 },
	{ "20000", 20000, 1 }, { "25000", 25000, 1 }, { "30000", 30000, 1 },
	{ NULL, 0, 0 }
};

static const double rhx_emu_steps[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1,
	2, 5, 10, 0 };

/* Bytes waiting for a client. */
struct rhx_emu_out {
	unsigned char	*data;
	size_t		 len, off, cap, max;
	uint64_t	 dropped;
};

/* One listening port and its single client. */
struct rhx_emu_port {
	const char		*name;
	int			 present;
	uint16_t		 asked, port, first;
	int			 listen_fd, client_fd;
	struct rhx_emu_out	 out;
};

/* Something at a frame: a threshold crossing or the start of a pulse. */
struct rhx_emu_event {
	uint64_t	frame;
	uint16_t	channel;
	uint8_t		pulse;
	uint8_t		id;
};

/* One channel: settings, uploaded stimulation, train and waveform state. */
struct rhx_emu_channel {
	char		 name[6];
	char		 letter;
	int		 number;
	double		 val[RHX_EMU_C_COUNT];
	double		 uploaded[RHX_EMU_C_COUNT];
	uint32_t	 pulses_left;
	uint64_t	 next_pulse, period, busy_until;
	int64_t		 last_spike, pulse_start;
	double		 lfp_phase;
};

/* A delivered pulse, for stim_log. */
struct rhx_emu_stim {
	uint16_t	channel;
	uint64_t	frame;
	double		amplitude, first_us;
};

/* The emulator. */
struct rhx_emu {
	/* Options. */
	int			 stim_controller, stay_pending, verbose;
	double			 fs, step_ua, spike_rate, artifact_fraction;
	const char		*fs_text, *control;

	/* Channels in RHX order (port letter, then number). */
	struct rhx_emu_channel	*ch;
	size_t			 nch;

	/* Ports and the control FIFO. */
	struct rhx_emu_port	 port[RHX_EMU_NPORTS];
	struct emu_control	 ctl;

	/* Settings, reset by "restart". */
	double			 gval[RHX_EMU_G_COUNT];
	char			 gstr[RHX_EMU_G_COUNT][RHX_EMU_STRING_MAX];
	int			 key_on[8];

	/* Acquisition. */
	uint64_t		 t0_ns, gen_frame, last_timestamp;
	unsigned		 trains;
	struct rhx_emu_event	*pending, *block;
	size_t			 npending;
	uint64_t		 rng;
	int			 shape[RHX_EMU_SHAPE_MAX];
	size_t			 shape_len;

	/* Faults. */
	int			 split, badmagic;
	uint64_t		 split_next_ns, stall_until_ns;

	/* Stimulation log and counters. */
	struct rhx_emu_stim	*stim_log;
	size_t			 stim_log_len, stim_log_head;
	uint64_t		 stim_log_total;
	uint64_t		 commands, gets, sets, errors, records, stims;
	uint64_t		 triggers, runs, clients, dropped_events;
	uint64_t		 now_ns;
};

/* Set by SIGTERM/SIGINT or "quit". */
static volatile sig_atomic_t rhx_emu_stop;

/* Signal handler: ask the loop to end. */
static void
rhx_emu_signal(int sig)
{
	rhx_emu_stop = sig;
}

/* Next 64 random bits (splitmix64). */
static uint64_t
rhx_emu_random(struct rhx_emu *e)
{
	uint64_t	z = (e->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* A uniform draw in [0, 1). */
static double
rhx_emu_uniform(struct rhx_emu *e)
{
	return ((double)(rhx_emu_random(e) >> 11) * 0x1p-53);
}

/* A Poisson draw of mean exp(-lambda) = limit (Knuth). */
static unsigned
rhx_emu_poisson(struct rhx_emu *e, double limit)
{
	unsigned	k = 0;
	double		p = 1;

	for (;;) {
		p *= rhx_emu_uniform(e);
		if (p <= limit || k >= 10000)
			return (k);
		k++;
	}
}

/* Copy at most n-1 bytes of s, printable ASCII only, for a log line. */
static void
rhx_emu_printable(char *dst, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; i + 1 < n && s[i] != '\0'; i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	dst[i] = '\0';
}

/* Append bytes for a client; -1 (counted) if the queue is full. */
static int
rhx_emu_out_put(struct rhx_emu_out *o, const void *buf, size_t len)
{
	unsigned char	*p;
	size_t		 cap;

	if (o->off > 0 && o->off == o->len)
		o->off = o->len = 0;
	if (o->len - o->off + len > o->max) {
		if (o->dropped++ % 1000 == 0)
			emu_log("client reads too slowly: %zu bytes "
			    "waiting, output dropped (%llu times)",
			    o->len - o->off, (unsigned long long)o->dropped);
		return (-1);
	}
	if (o->len + len > o->cap && o->off > 0) {
		memmove(o->data, o->data + o->off, o->len - o->off);
		o->len -= o->off;
		o->off = 0;
	}
	if (o->len + len > o->cap) {
		cap = o->cap == 0 ? 4096 : o->cap;
		while (cap < o->len + len)
			cap *= 2;
		if ((p = realloc(o->data, cap)) == NULL) {
			emu_log("out of memory: output dropped");
			return (-1);
		}
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, buf, len);
	o->len += len;
	return (0);
}

/* Forget what is queued for a client. */
static void
rhx_emu_out_clear(struct rhx_emu_out *o)
{
	o->len = o->off = 0;
}

/* Store a little-endian uint16. */
static unsigned char *
rhx_emu_le16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	return (p + 2);
}

/* Store a little-endian uint32. */
static unsigned char *
rhx_emu_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
	return (p + 4);
}

/* Open a loopback listener on port (0: any); the fd or -1. */
static int
rhx_emu_listen_on(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return (-1);
	}
	*bound = ntohs(sin.sin_port);
	return (fd);
}

/* Make a port listen (on want, or on its bound port); 0 or -1. */
static int
rhx_emu_arm(struct rhx_emu *e, struct rhx_emu_port *p, uint16_t want)
{
	uint16_t	bound;
	int		fd;

	if (!p->present || p->listen_fd != -1 || p->client_fd != -1)
		return (0);
	if (want == 0)
		want = p->port != 0 ? p->port : p->asked;
	fd = rhx_emu_listen_on(want, &bound);
	if (fd == -1 && want == p->port && p->asked == 0) {
		emu_log("%s port %u: %s; taking another", p->name,
		    (unsigned)want, strerror(errno));
		fd = rhx_emu_listen_on(0, &bound);
	}
	if (fd == -1) {
		emu_log("%s port %u: %s", p->name, (unsigned)want,
		    strerror(errno));
		return (-1);
	}
	p->listen_fd = fd;
	p->port = bound;
	return (0);
}

/* Close a port's listener and client; Disconnected. */
static void
rhx_emu_disarm(struct rhx_emu_port *p)
{
	if (p->listen_fd != -1)
		close(p->listen_fd);
	if (p->client_fd != -1)
		close(p->client_fd);
	p->listen_fd = p->client_fd = -1;
	rhx_emu_out_clear(&p->out);
}

/* A client left or was dropped: the port stops listening (or re-listens). */
static void
rhx_emu_client_gone(struct rhx_emu *e, struct rhx_emu_port *p)
{
	close(p->client_fd);
	p->client_fd = -1;
	rhx_emu_out_clear(&p->out);
	if (p == &e->port[RHX_EMU_COMMAND] && e->stay_pending &&
	    rhx_emu_arm(e, p, 0) == 0) {
		emu_say("listening %s %u", p->name, (unsigned)p->port);
		return;
	}
	emu_say("disconnected %s %u", p->name, (unsigned)p->port);
}

/*
 * Notice a client that has already left (its EOF not yet read), so that a
 * re-arm right after a hangup is not taken for a port still in use.
 */
static void
rhx_emu_reap(struct rhx_emu *e, struct rhx_emu_port *p)
{
	char	c;
	ssize_t	n;

	if (p->client_fd == -1)
		return;
	n = recv(p->client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		rhx_emu_client_gone(e, p);
}

/* Accept the one client of a port and stop listening. */
static void
rhx_emu_accept(struct rhx_emu *e, struct rhx_emu_port *p)
{
	int	fd, one = 1;

	fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			emu_log("%s port: accept: %s", p->name,
			    strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	close(p->listen_fd);
	p->listen_fd = -1;
	p->client_fd = fd;
	rhx_emu_out_clear(&p->out);
	e->clients++;
	emu_say("connected %s %u", p->name, (unsigned)p->port);
}

/* The frame the run's clock has reached. */
static uint64_t
rhx_emu_frames_now(struct rhx_emu *e)
{
	if (e->gval[RHX_EMU_G_RUNMODE] == RHX_EMU_STOP)
		return (e->last_timestamp);
	if (e->now_ns <= e->t0_ns)
		return (0);
	return ((uint64_t)((double)(e->now_ns - e->t0_ns) * e->fs / 1e9));
}

/* Defaults of one channel's parameters. */
static void
rhx_emu_channel_reset(struct rhx_emu_channel *c)
{
	int	i;

	for (i = 0; i < RHX_EMU_C_COUNT; i++)
		c->val[i] = c->uploaded[i] = rhx_emu_channel_params[i].def;
	c->pulses_left = 0;
	c->next_pulse = c->period = c->busy_until = 0;
	c->last_spike = c->pulse_start = -1;
}

/* A freshly started RHX: stopped, every setting at its default. */
static void
rhx_emu_reset(struct rhx_emu *e)
{
	size_t	i;

	for (i = 0; i < RHX_EMU_G_COUNT; i++) {
		e->gval[i] = rhx_emu_globals[i].def;
		e->gstr[i][0] = '\0';
	}
	e->gval[RHX_EMU_G_SPIKE_PORT] = e->port[RHX_EMU_SPIKE].port;
	e->gval[RHX_EMU_G_WAVE_PORT] = e->port[RHX_EMU_WAVEFORM].port != 0 ?
	    e->port[RHX_EMU_WAVEFORM].port : 5001;
	strcpy(e->gstr[RHX_EMU_G_SPIKE_HOST], "127.0.0.1");
	strcpy(e->gstr[RHX_EMU_G_WAVE_HOST], "127.0.0.1");
	memset(e->key_on, 0, sizeof e->key_on);
	for (i = 0; i < e->nch; i++)
		rhx_emu_channel_reset(&e->ch[i]);
	e->t0_ns = e->gen_frame = e->last_timestamp = 0;
	e->trains = 0;
	e->npending = 0;
	e->badmagic = 0;
	e->stall_until_ns = 0;
}

/* Print the counters. */
static void
rhx_emu_stats(struct rhx_emu *e)
{
	emu_say("stats commands=%llu gets=%llu sets=%llu errors=%llu "
	    "records=%llu stims=%llu triggers=%llu runs=%llu clients=%llu",
	    (unsigned long long)e->commands, (unsigned long long)e->gets,
	    (unsigned long long)e->sets, (unsigned long long)e->errors,
	    (unsigned long long)e->records, (unsigned long long)e->stims,
	    (unsigned long long)e->triggers, (unsigned long long)e->runs,
	    (unsigned long long)e->clients);
}

/* Queue a pending event; 0 or -1 (full, counted). */
static int
rhx_emu_event_add(struct rhx_emu *e, uint64_t frame, size_t ch, int pulse,
    uint8_t id)
{
	struct rhx_emu_event	*ev;

	if (e->npending >= RHX_EMU_EVENTS_MAX) {
		if (e->dropped_events++ % 1000 == 0)
			emu_log("%zu events pending: event dropped",
			    e->npending);
		return (-1);
	}
	ev = &e->pending[e->npending++];
	ev->frame = frame;
	ev->channel = (uint16_t)ch;
	ev->pulse = (uint8_t)pulse;
	ev->id = id;
	return (0);
}

/* The id of a threshold crossing: 1, or 0x80 for --artifact-fraction. */
static uint8_t
rhx_emu_spike_id(struct rhx_emu *e)
{
	if (e->artifact_fraction > 0 &&
	    rhx_emu_uniform(e) < e->artifact_fraction)
		return (RHX_EMU_ID_ARTIFACT);
	return (RHX_EMU_ID_SPIKE);
}

/* A phase amplitude as delivered: rounded to the step, 0..255 steps. */
static long
rhx_emu_steps_of(struct rhx_emu *e, double ua)
{
	long	steps = lround(ua / e->step_ua);

	return (steps < 0 ? 0 : steps > 255 ? 255 : steps);
}

/* Length of one pulse of a channel's uploaded parameters, in µs. */
static double
rhx_emu_pulse_us(const double *u)
{
	double	us = u[RHX_EMU_C_FIRST_DURATION] +
	    u[RHX_EMU_C_SECOND_DURATION];

	if (u[RHX_EMU_C_SHAPE] == RHX_EMU_BIPHASIC_DELAY)
		us += u[RHX_EMU_C_INTERPHASE];
	if (u[RHX_EMU_C_SHAPE] == RHX_EMU_TRIPHASIC)
		us += u[RHX_EMU_C_FIRST_DURATION];
	return (us);
}

/* µs to frames at the sample rate, rounded. */
static uint64_t
rhx_emu_us_frames(struct rhx_emu *e, double us)
{
	return ((uint64_t)llround(us * e->fs / 1e6));
}

/*
 * Deliver one pulse of channel i at a frame: log it, flag an artifact on
 * the channel, and evoke spikes 2-10 ms later on it and its neighbours
 * (same port, numbers within 2) with a probability growing with the
 * amplitude.
 */
static void
rhx_emu_pulse(struct rhx_emu *e, size_t i, uint64_t frame)
{
	struct rhx_emu_channel	*c = &e->ch[i], *n;
	struct rhx_emu_stim	*s;
	double			 a1, a2, amp, p;
	long			 d;
	size_t			 j;

	a1 = (double)rhx_emu_steps_of(e,
	    c->uploaded[RHX_EMU_C_FIRST_AMPLITUDE]) * e->step_ua;
	a2 = (double)rhx_emu_steps_of(e,
	    c->uploaded[RHX_EMU_C_SECOND_AMPLITUDE]) * e->step_ua;
	amp = a1 > a2 ? a1 : a2;
	e->stims++;
	s = &e->stim_log[(e->stim_log_head + e->stim_log_len) %
	    RHX_EMU_STIM_LOG_MAX];
	if (e->stim_log_len < RHX_EMU_STIM_LOG_MAX)
		e->stim_log_len++;
	else
		e->stim_log_head = (e->stim_log_head + 1) %
		    RHX_EMU_STIM_LOG_MAX;
	s->channel = (uint16_t)i;
	s->frame = frame;
	s->amplitude = a1;
	s->first_us = c->uploaded[RHX_EMU_C_FIRST_DURATION];
	e->stim_log_total++;

	rhx_emu_event_add(e, frame, i, 1, 0);
	rhx_emu_event_add(e, frame, i, 0, RHX_EMU_ID_ARTIFACT);
	for (d = -2; d <= 2; d++) {
		if ((d < 0 && (size_t)-d > i) || i + (size_t)d >= e->nch)
			continue;
		j = i + (size_t)d;
		n = &e->ch[j];
		if (n->letter != c->letter || n->number != c->number + d)
			continue;
		p = 1 - exp(-amp / (d == 0 ? 25.0 : d == 1 || d == -1 ? 50.0 :
		    100.0));
		if (rhx_emu_uniform(e) < p)
			rhx_emu_event_add(e, frame + (uint64_t)llround(e->fs *
			    (0.002 + 0.008 * rhx_emu_uniform(e))), j, 0,
			    rhx_emu_spike_id(e));
	}
}

/* Order events by frame, pulses first, then channel. */
static int
rhx_emu_event_cmp(const void *pa, const void *pb)
{
	const struct rhx_emu_event	*a = pa, *b = pb;

	if (a->frame != b->frame)
		return (a->frame < b->frame ? -1 : 1);
	if (a->pulse != b->pulse)
		return (a->pulse ? -1 : 1);
	return ((int)a->channel - (int)b->channel);
}

/* Queue one spike record on the spike socket. */
static void
rhx_emu_record(struct rhx_emu *e, const struct rhx_emu_event *ev)
{
	unsigned char	rec[RHX_EMU_RECORD_LEN], *p;

	p = rhx_emu_le32(rec, e->badmagic ? RHX_EMU_BAD_MAGIC :
	    RHX_EMU_SPIKE_MAGIC);
	memcpy(p, e->ch[ev->channel].name, 5);
	p = rhx_emu_le32(p + 5, (uint32_t)ev->frame);
	*p = ev->id;
	if (rhx_emu_out_put(&e->port[RHX_EMU_SPIKE].out, rec, sizeof rec) ==
	    0) {
		if (e->badmagic)
			emu_log("badmagic: record %s %u sent with magic "
			    "0x%08x", e->ch[ev->channel].name,
			    (unsigned)(uint32_t)ev->frame, RHX_EMU_BAD_MAGIC);
		e->badmagic = 0;
		e->records++;
	}
}

/* The STIM band word of a channel at a frame. */
static uint16_t
rhx_emu_stim_word(struct rhx_emu *e, struct rhx_emu_channel *c,
    uint64_t frame)
{
	const double	*u = c->uploaded;
	double		 t, first, gap = 0, second;
	int		 neg_first;

	if (c->pulse_start < 0)
		return (0);
	t = (double)(frame - (uint64_t)c->pulse_start) * 1e6 / e->fs;
	first = u[RHX_EMU_C_FIRST_DURATION];
	second = u[RHX_EMU_C_SECOND_DURATION];
	if (u[RHX_EMU_C_SHAPE] == RHX_EMU_BIPHASIC_DELAY)
		gap = u[RHX_EMU_C_INTERPHASE];
	neg_first = u[RHX_EMU_C_POLARITY] == RHX_EMU_NEGATIVE_FIRST;
	if (t < first)
		return ((uint16_t)(rhx_emu_steps_of(e,
		    u[RHX_EMU_C_FIRST_AMPLITUDE]) | (neg_first ? 0x100 : 0)));
	if (t < first + gap)
		return (0);
	if (t < first + gap + second)
		return ((uint16_t)(rhx_emu_steps_of(e,
		    u[RHX_EMU_C_SECOND_AMPLITUDE]) | (neg_first ? 0 : 0x100)));
	if (u[RHX_EMU_C_SHAPE] == RHX_EMU_TRIPHASIC &&
	    t < 2 * first + gap + second)
		return ((uint16_t)(rhx_emu_steps_of(e,
		    u[RHX_EMU_C_FIRST_AMPLITUDE]) | (neg_first ? 0x100 : 0)));
	c->pulse_start = -1;
	return (0);
}

/* An amplifier sample in bits from µV, clamped to uint16. */
static uint16_t
rhx_emu_amp_bits(double uv)
{
	double	v = 32768 + uv / RHX_EMU_UV_PER_BIT;

	return ((uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : lround(v)));
}

/* One waveform block (magic, 128 frames) from the block's events. */
static void
rhx_emu_waveform_block(struct rhx_emu *e, uint64_t b0, size_t nev)
{
	struct rhx_emu_port	*p = &e->port[RHX_EMU_WAVEFORM];
	struct rhx_emu_channel	*c;
	unsigned char		*buf, *q;
	size_t			 i, bands = 0, size, k = 0;
	uint64_t		 f, r, d;
	double			 noise, spike, lfp;
	int			 stim = e->stim_controller;

	for (i = 0; i < e->nch; i++) {
		c = &e->ch[i];
		bands += (c->val[RHX_EMU_C_WIDE] != 0) +
		    (c->val[RHX_EMU_C_LOW] != 0) +
		    (c->val[RHX_EMU_C_HIGH] != 0);
		if (stim)
			bands += (c->val[RHX_EMU_C_DC] != 0) +
			    (c->val[RHX_EMU_C_STIMBAND] != 0);
	}
	size = 4 + RHX_EMU_FRAMES_PER_BLOCK * (4 + 2 * bands);
	if ((buf = malloc(size)) == NULL) {
		emu_log("out of memory: waveform block dropped");
		return;
	}
	q = rhx_emu_le32(buf, RHX_EMU_WAVE_MAGIC);
	for (f = b0; f < b0 + RHX_EMU_FRAMES_PER_BLOCK; f++) {
		for (; k < nev && e->block[k].frame == f; k++) {
			c = &e->ch[e->block[k].channel];
			if (e->block[k].pulse)
				c->pulse_start = (int64_t)f;
			else if (e->block[k].id == RHX_EMU_ID_SPIKE)
				c->last_spike = (int64_t)f;
		}
		q = rhx_emu_le32(q, (uint32_t)f);
		for (i = 0; i < e->nch; i++) {
			c = &e->ch[i];
			if (c->val[RHX_EMU_C_WIDE] == 0 &&
			    c->val[RHX_EMU_C_LOW] == 0 &&
			    c->val[RHX_EMU_C_HIGH] == 0 &&
			    (!stim || (c->val[RHX_EMU_C_DC] == 0 &&
			    c->val[RHX_EMU_C_STIMBAND] == 0)))
				continue;
			r = rhx_emu_random(e);
			noise = ((double)(r & 0xff) + (double)((r >> 8) &
			    0xff) - 255) * 0.05;
			spike = 0;
			if (c->last_spike >= 0) {
				d = f - (uint64_t)c->last_spike;
				if (d < e->shape_len)
					spike = e->shape[d];
				else
					c->last_spike = -1;
			}
			lfp = 40 * sin(c->lfp_phase + 2 * M_PI * 8 *
			    (double)f / e->fs);
			if (c->val[RHX_EMU_C_WIDE] != 0)
				q = rhx_emu_le16(q, rhx_emu_amp_bits(lfp +
				    noise + spike));
			if (c->val[RHX_EMU_C_LOW] != 0)
				q = rhx_emu_le16(q, rhx_emu_amp_bits(lfp));
			if (c->val[RHX_EMU_C_HIGH] != 0)
				q = rhx_emu_le16(q, rhx_emu_amp_bits(noise +
				    spike));
			if (stim && c->val[RHX_EMU_C_DC] != 0)
				q = rhx_emu_le16(q, 512);
			if (stim && c->val[RHX_EMU_C_STIMBAND] != 0)
				q = rhx_emu_le16(q, rhx_emu_stim_word(e, c, f));
		}
	}
	rhx_emu_out_put(&p->out, buf, (size_t)(q - buf));
	free(buf);
}

/* Generate one block of 128 frames from b0 and queue it for the clients. */
static void
rhx_emu_block(struct rhx_emu *e, uint64_t b0)
{
	uint64_t		 b1 = b0 + RHX_EMU_FRAMES_PER_BLOCK;
	struct rhx_emu_channel	*c;
	struct rhx_emu_event	*ev;
	double			 limit;
	size_t			 i, n, nev = 0;
	unsigned		 k;

	/* Pulses of trains in progress. */
	for (i = 0; e->trains > 0 && i < e->nch; i++) {
		c = &e->ch[i];
		while (c->pulses_left > 0 && c->next_pulse < b1) {
			rhx_emu_pulse(e, i, c->next_pulse);
			c->next_pulse += c->period;
			if (--c->pulses_left == 0)
				e->trains--;
		}
	}

	/* Spontaneous threshold crossings, Poisson per channel. */
	if (e->spike_rate > 0) {
		limit = exp(-e->spike_rate * RHX_EMU_FRAMES_PER_BLOCK / e->fs);
		for (i = 0; i < e->nch; i++) {
			n = rhx_emu_poisson(e, limit);
			for (k = 0; k < n; k++)
				rhx_emu_event_add(e, b0 + rhx_emu_random(e) %
				    RHX_EMU_FRAMES_PER_BLOCK, i, 0,
				    rhx_emu_spike_id(e));
		}
	}

	/* This block's events, in order; the later ones stay pending. */
	for (i = 0; i < e->npending;) {
		if (e->pending[i].frame < b1) {
			e->block[nev++] = e->pending[i];
			e->pending[i] = e->pending[--e->npending];
		} else
			i++;
	}
	qsort(e->block, nev, sizeof *e->block, rhx_emu_event_cmp);

	if (e->port[RHX_EMU_SPIKE].client_fd != -1) {
		for (i = 0; i < nev; i++) {
			ev = &e->block[i];
			if (!ev->pulse &&
			    e->ch[ev->channel].val[RHX_EMU_C_SPIKE] != 0)
				rhx_emu_record(e, ev);
		}
	}
	if (e->port[RHX_EMU_WAVEFORM].client_fd != -1)
		rhx_emu_waveform_block(e, b0, nev);
	e->gen_frame = b1;
}

/* The time the next write is due, while running. */
static uint64_t
rhx_emu_next_write_ns(struct rhx_emu *e)
{
	uint64_t	end = e->gen_frame +
	    (uint64_t)e->gval[RHX_EMU_G_BLOCKS] * RHX_EMU_FRAMES_PER_BLOCK;

	return (e->t0_ns + (uint64_t)ceil((double)end * 1e9 / e->fs));
}

/* Write every batch of N blocks the clock has passed (a bounded number). */
static void
rhx_emu_acquire(struct rhx_emu *e)
{
	uint64_t	now, nblocks, b, batch, skip;
	int		batches;

	if (e->gval[RHX_EMU_G_RUNMODE] == RHX_EMU_STOP)
		return;
	now = rhx_emu_frames_now(e);
	batch = (uint64_t)e->gval[RHX_EMU_G_BLOCKS] * RHX_EMU_FRAMES_PER_BLOCK;
	if (now > e->gen_frame + 2 * (uint64_t)e->fs + batch) {
		/* Suspended or starved: skip, keeping the batch alignment. */
		skip = (now - e->gen_frame - (uint64_t)e->fs) / batch * batch;
		emu_log("%llu frames behind the clock: %llu skipped",
		    (unsigned long long)(now - e->gen_frame),
		    (unsigned long long)skip);
		e->gen_frame += skip;
	}
	for (batches = 0; batches < RHX_EMU_BATCHES_PER_PASS; batches++) {
		nblocks = (uint64_t)e->gval[RHX_EMU_G_BLOCKS];
		if (e->gen_frame + nblocks * RHX_EMU_FRAMES_PER_BLOCK > now)
			return;
		for (b = 0; b < nblocks; b++)
			rhx_emu_block(e, e->gen_frame);
	}
}

/* Start acquisition in a run mode. */
static void
rhx_emu_run(struct rhx_emu *e, int mode)
{
	size_t	i;

	e->gval[RHX_EMU_G_RUNMODE] = mode;
	e->t0_ns = e->now_ns;
	e->gen_frame = e->last_timestamp = 0;
	e->npending = 0;
	e->trains = 0;
	for (i = 0; i < e->nch; i++) {
		e->ch[i].pulses_left = 0;
		e->ch[i].busy_until = 0;
		e->ch[i].last_spike = e->ch[i].pulse_start = -1;
		e->ch[i].lfp_phase = 2 * M_PI * rhx_emu_uniform(e);
	}
	e->runs++;
	emu_say("runmode %s frame=0 us=%llu", rhx_emu_runmode_values[mode],
	    (unsigned long long)(e->now_ns / 1000));
}

/* Stop acquisition: write the complete blocks not yet written. */
static void
rhx_emu_halt(struct rhx_emu *e)
{
	uint64_t	now = rhx_emu_frames_now(e);

	rhx_emu_acquire(e);
	while (e->gen_frame + RHX_EMU_FRAMES_PER_BLOCK <= now &&
	    e->gen_frame + 2 * (uint64_t)e->fs > now)
		rhx_emu_block(e, e->gen_frame);
	e->last_timestamp = now;
	e->gval[RHX_EMU_G_RUNMODE] = RHX_EMU_STOP;
	emu_say("runmode Stop frame=%llu us=%llu", (unsigned long long)now,
	    (unsigned long long)(e->now_ns / 1000));
}

/* Queue a reply on the command socket, no terminator. */
static void __attribute__((format(printf, 2, 3)))
rhx_emu_reply(struct rhx_emu *e, const char *fmt, ...)
{
	struct rhx_emu_port	*p = &e->port[RHX_EMU_COMMAND];
	char			 buf[RHX_EMU_REPLY_MAX];
	va_list			 ap;
	int			 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	if (e->verbose)
		emu_log("reply: %s", buf);
	if (p->client_fd != -1)
		rhx_emu_out_put(&p->out, buf, (size_t)n);
}

/* Answer an error (free text, no terminator) and log it. */
static void __attribute__((format(printf, 2, 3)))
rhx_emu_error(struct rhx_emu *e, const char *fmt, ...)
{
	struct rhx_emu_port	*p = &e->port[RHX_EMU_COMMAND];
	char			 buf[RHX_EMU_REPLY_MAX];
	va_list			 ap;
	int			 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	e->errors++;
	emu_log("error reply: %s", buf);
	if (p->client_fd != -1)
		rhx_emu_out_put(&p->out, buf, (size_t)n);
}

/* The name of a trigger source (DigitalIn01, AnalogIn03, KeyPressF1...). */
static void
rhx_emu_source_name(int i, char *buf, size_t n)
{
	if (i < 16)
		snprintf(buf, n, "DigitalIn%02d", i + 1);
	else if (i < RHX_EMU_SOURCE_KEY0)
		snprintf(buf, n, "AnalogIn%02d", i - 15);
	else
		snprintf(buf, n, "KeyPressF%d", i - RHX_EMU_SOURCE_KEY0 + 1);
}

/* The values a parameter accepts, for an error. */
static void
rhx_emu_acceptable(struct rhx_emu *e, const struct rhx_emu_param *p,
    char *buf, size_t n)
{
	size_t	i, len = 0;

	buf[0] = '\0';
	switch (p->kind) {
	case RHX_EMU_BOOL:
	case RHX_EMU_ENUM:
		for (i = 0; p->values[i] != NULL && len < n; i++)
			len += (size_t)snprintf(buf + len, n - len, "%s%s",
			    i > 0 ? ", " : "", p->values[i]);
		break;
	case RHX_EMU_INT:
	case RHX_EMU_NUM:
		snprintf(buf, n, "%g to %g", p->lo, p->hi);
		break;
	case RHX_EMU_AMP:
		snprintf(buf, n, "0 to %g (255 steps of %g uA)",
		    255 * e->step_ua, e->step_ua);
		break;
	case RHX_EMU_SOURCE:
		snprintf(buf, n, "DigitalIn01 to DigitalIn16, AnalogIn01 to "
		    "AnalogIn08, KeyPressF1 to KeyPressF8");
		break;
	default:
		snprintf(buf, n, "text");
		break;
	}
}

/* Parse a whole string as a finite number; 0 or -1. */
static int
rhx_emu_number(const char *s, double *v)
{
	char	*end;

	if (*s == '\0')
		return (-1);
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*v))
		return (-1);
	return (0);
}

/* Parse a value for a parameter (not a string); 0 or -1. */
static int
rhx_emu_parse(struct rhx_emu *e, const struct rhx_emu_param *p,
    const char *s, double *v)
{
	char	name[32];
	int	i;

	switch (p->kind) {
	case RHX_EMU_BOOL:
	case RHX_EMU_ENUM:
		for (i = 0; p->values[i] != NULL; i++) {
			if (strcasecmp(s, p->values[i]) == 0) {
				*v = i;
				return (0);
			}
		}
		return (-1);
	case RHX_EMU_SOURCE:
		for (i = 0; i < RHX_EMU_SOURCE_COUNT; i++) {
			rhx_emu_source_name(i, name, sizeof name);
			if (strcasecmp(s, name) == 0) {
				*v = i;
				return (0);
			}
		}
		return (-1);
	case RHX_EMU_INT:
		if (rhx_emu_number(s, v) != 0 || *v != floor(*v))
			return (-1);
		return (*v >= p->lo && *v <= p->hi ? 0 : -1);
	case RHX_EMU_NUM:
		if (rhx_emu_number(s, v) != 0)
			return (-1);
		return (*v >= p->lo && *v <= p->hi ? 0 : -1);
	case RHX_EMU_AMP:
		if (rhx_emu_number(s, v) != 0)
			return (-1);
		if (!(*v >= 0 && *v <= 255 * e->step_ua * (1 + 1e-9)))
			return (-1);
		if (fabs(*v / e->step_ua - (double)lround(*v / e->step_ua)) >
		    1e-6)
			emu_log("warning (RHX shows it in its GUI only): "
			    "%s %g uA is not a multiple of the %g uA step; "
			    "%g uA will be delivered", p->name, *v,
			    e->step_ua,
			    (double)rhx_emu_steps_of(e, *v) * e->step_ua);
		return (0);
	default:
		return (-1);
	}
}

/* Format a parameter's value as get answers it. */
static void
rhx_emu_format(struct rhx_emu *e, const struct rhx_emu_param *p, double v,
    char *buf, size_t n)
{
	int	i = (int)v;

	switch (p->kind) {
	case RHX_EMU_BOOL:
	case RHX_EMU_ENUM:
		snprintf(buf, n, "%s", p->values[i]);
		break;
	case RHX_EMU_SOURCE:
		rhx_emu_source_name(i, buf, n);
		break;
	case RHX_EMU_INT:
		snprintf(buf, n, "%.0f", v);
		break;
	default:
		snprintf(buf, n, "%.10g", v);
		break;
	}
}

/* A parameter named in a command: global, or of one channel. */
struct rhx_emu_ref {
	const struct rhx_emu_param	*p;
	int				 index;
	struct rhx_emu_channel		*c;
	char				 full[96];
};

/* Is s a native channel name (letter, dash, three digits)? */
static int
rhx_emu_is_channel_name(const char *s, size_t len)
{
	return (len == 5 && isalpha((unsigned char)s[0]) && s[1] == '-' &&
	    isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) &&
	    isdigit((unsigned char)s[4]));
}

/* The channel of a native name, or NULL. */
static struct rhx_emu_channel *
rhx_emu_channel_find(struct rhx_emu *e, const char *s, size_t len)
{
	size_t	i;

	if (!rhx_emu_is_channel_name(s, len))
		return (NULL);
	for (i = 0; i < e->nch; i++) {
		if (strncasecmp(e->ch[i].name, s, 5) == 0)
			return (&e->ch[i]);
	}
	return (NULL);
}

/* Find a parameter by name; 0, or -1 with the error answered. */
static int
rhx_emu_lookup(struct rhx_emu *e, const char *name, struct rhx_emu_ref *r)
{
	const char	*dot;
	char		 shown[64];
	int		 i;

	memset(r, 0, sizeof *r);
	for (i = 0; i < RHX_EMU_G_COUNT; i++) {
		if (strcasecmp(name, rhx_emu_globals[i].name) == 0) {
			r->p = &rhx_emu_globals[i];
			r->index = i;
			snprintf(r->full, sizeof r->full, "%s", r->p->name);
			goto found;
		}
	}
	rhx_emu_printable(shown, sizeof shown, name);
	if ((dot = strchr(name, '.')) == NULL) {
		emu_log("no parameter '%s'", shown);
		goto unknown;
	}
	if (rhx_emu_is_channel_name(name, (size_t)(dot - name)) &&
	    (r->c = rhx_emu_channel_find(e, name, 5)) == NULL) {
		emu_log("'%s': no such channel (have %s..%s)", shown,
		    e->ch[0].name, e->ch[e->nch - 1].name);
		goto unknown;
	}
	if (r->c == NULL) {
		emu_log("'%s': port-wide and other dotted parameters are "
		    "not emulated", shown);
		goto unknown;
	}
	for (i = 0; i < RHX_EMU_C_COUNT; i++) {
		if (strcasecmp(dot + 1, rhx_emu_channel_params[i].name) == 0) {
			r->p = &rhx_emu_channel_params[i];
			r->index = i;
			snprintf(r->full, sizeof r->full, "%s.%s", r->c->name,
			    r->p->name);
			goto found;
		}
	}
	emu_log("'%s': no such channel parameter", shown);
	goto unknown;

found:
	if ((r->p->flags & RHX_EMU_STIM) && !e->stim_controller) {
		rhx_emu_error(e, "%s is only available on a stimulation/"
		    "recording controller", r->full);
		return (-1);
	}
	return (0);
unknown:
	rhx_emu_error(e, "Unrecognized parameter");
	return (-1);
}

/* get NAME: answer "Return: NAME VALUE". */
static void
rhx_emu_get(struct rhx_emu *e, const char *name)
{
	struct rhx_emu_ref	r;
	char			value[RHX_EMU_STRING_MAX + 32];

	if (rhx_emu_lookup(e, name, &r) != 0)
		return;
	if (r.c != NULL)
		rhx_emu_format(e, r.p, r.c->val[r.index], value, sizeof value);
	else {
		switch (r.index) {
		case RHX_EMU_G_TYPE:
			snprintf(value, sizeof value, "%s", e->stim_controller ?
			    "ControllerStimRecord" : "ControllerRecordUSB3");
			break;
		case RHX_EMU_G_SAMPLE_RATE:
			snprintf(value, sizeof value, "%s", e->fs_text);
			break;
		case RHX_EMU_G_STEP:
			snprintf(value, sizeof value, "%g", e->step_ua);
			break;
		case RHX_EMU_G_TIMESTAMP:
			snprintf(value, sizeof value, "%llu",
			    (unsigned long long)(uint32_t)
			    rhx_emu_frames_now(e));
			break;
		case RHX_EMU_G_TIME_SECONDS:
			snprintf(value, sizeof value, "%.6f",
			    (double)rhx_emu_frames_now(e) / e->fs);
			break;
		default:
			if (r.p->kind == RHX_EMU_STRING)
				snprintf(value, sizeof value, "%s",
				    e->gstr[r.index]);
			else
				rhx_emu_format(e, r.p, e->gval[r.index], value,
				    sizeof value);
			break;
		}
	}
	e->gets++;
	rhx_emu_reply(e, "Return: %s %s", r.full, value);
}

/* set RunMode: start or stop acquisition as the facts say. */
static void
rhx_emu_set_runmode(struct rhx_emu *e, int mode)
{
	int	running = e->gval[RHX_EMU_G_RUNMODE] != RHX_EMU_STOP;

	if (mode == RHX_EMU_STOP) {
		if (running)
			rhx_emu_halt(e);
		e->sets++;
		return;
	}
	if (running) {
		rhx_emu_error(e, "RunMode cannot be set to %s while the "
		    "controller is running; set RunMode Stop first",
		    rhx_emu_runmode_values[mode]);
		return;
	}
	if ((mode == RHX_EMU_RECORD || mode == RHX_EMU_TRIGGER) &&
	    (e->gstr[RHX_EMU_G_FILE_PATH][0] == '\0' ||
	    e->gstr[RHX_EMU_G_FILE_BASE][0] == '\0')) {
		rhx_emu_error(e, "RunMode %s needs Filename.Path and "
		    "Filename.BaseFilename to be set first",
		    rhx_emu_runmode_values[mode]);
		return;
	}
	e->sets++;
	rhx_emu_run(e, mode);
}

/* set NAME VALUE: silent on success, an error otherwise. */
static void
rhx_emu_set(struct rhx_emu *e, const char *name, const char *value)
{
	struct rhx_emu_ref	r;
	char			ok[160];
	double			v;

	if (rhx_emu_lookup(e, name, &r) != 0)
		return;
	if (r.p->flags & RHX_EMU_RO) {
		rhx_emu_error(e, "%s is read-only", r.full);
		return;
	}
	if ((r.p->flags & RHX_EMU_STOPPED) &&
	    e->gval[RHX_EMU_G_RUNMODE] != RHX_EMU_STOP) {
		rhx_emu_error(e, "%s cannot be changed while the controller "
		    "is running", r.full);
		return;
	}
	if (r.p->kind == RHX_EMU_STRING) {
		if (strlen(value) >= RHX_EMU_STRING_MAX ||
		    (!(r.p->flags & RHX_EMU_SPACES) && strchr(value, ' '))) {
			rhx_emu_error(e, "Invalid value for %s command. "
			    "Acceptable: text up to %d characters%s", r.full,
			    RHX_EMU_STRING_MAX - 1,
			    (r.p->flags & RHX_EMU_SPACES) ? "" :
			    " without spaces");
			return;
		}
		if ((r.p->flags & RHX_EMU_HOST) &&
		    strcmp(value, "127.0.0.1") != 0 &&
		    strcasecmp(value, "localhost") != 0) {
			rhx_emu_error(e, "Invalid value for %s command. "
			    "Acceptable: 127.0.0.1 (this emulator serves "
			    "loopback only)", r.full);
			return;
		}
		snprintf(e->gstr[r.index], sizeof e->gstr[r.index], "%s",
		    value);
		e->sets++;
		return;
	}
	if (rhx_emu_parse(e, r.p, value, &v) != 0) {
		rhx_emu_acceptable(e, r.p, ok, sizeof ok);
		rhx_emu_error(e, "Invalid value for %s command. Acceptable: %s",
		    r.full, ok);
		return;
	}
	if (r.c != NULL) {
		r.c->val[r.index] = v;
		e->sets++;
	} else if (r.index == RHX_EMU_G_RUNMODE)
		rhx_emu_set_runmode(e, (int)v);
	else {
		e->gval[r.index] = v;
		e->sets++;
	}
}

/* Connect or Disconnect a data output port. */
static void
rhx_emu_data_port(struct rhx_emu *e, int which, int connect)
{
	struct rhx_emu_port	*p = &e->port[which];
	uint16_t		 want;

	if (!p->present) {
		emu_log("%s output is not emulated (start with "
		    "--%s-port): ignored", p->name, p->name);
		return;
	}
	if (!connect) {
		if (p->listen_fd != -1 || p->client_fd != -1) {
			rhx_emu_disarm(p);
			emu_say("disconnected %s %u", p->name,
			    (unsigned)p->port);
		}
		return;
	}
	rhx_emu_reap(e, p);
	if (p->listen_fd != -1 || p->client_fd != -1)
		return;
	want = (uint16_t)e->gval[which == RHX_EMU_SPIKE ?
	    RHX_EMU_G_SPIKE_PORT : RHX_EMU_G_WAVE_PORT];
	if (rhx_emu_arm(e, p, want) != 0) {
		rhx_emu_error(e, "Unable to listen on port %u for %s data "
		    "output", (unsigned)want, p->name);
		return;
	}
	emu_say("listening %s %u", p->name, (unsigned)p->port);
}

/* Channel i fires from a trigger at frame ft; 0 or -1 (busy, empty). */
static int
rhx_emu_fire(struct rhx_emu *e, size_t i, uint64_t ft)
{
	struct rhx_emu_channel	*c = &e->ch[i];
	const double		*u = c->uploaded;
	uint64_t		 start, len;
	uint32_t		 pulses;

	if (ft < c->busy_until) {
		emu_log("%s: trigger at frame %llu inside its train or "
		    "refractory period (until %llu): ignored", c->name,
		    (unsigned long long)ft,
		    (unsigned long long)c->busy_until);
		return (-1);
	}
	pulses = u[RHX_EMU_C_PULSE_TRAIN] == RHX_EMU_SINGLE_PULSE ? 1 :
	    (uint32_t)u[RHX_EMU_C_NPULSES];
	if (pulses == 0) {
		emu_log("%s: PulseTrain of 0 pulses: nothing delivered",
		    c->name);
		return (-1);
	}
	start = ft + rhx_emu_us_frames(e, u[RHX_EMU_C_POST_TRIGGER]);
	c->period = rhx_emu_us_frames(e, u[RHX_EMU_C_TRAIN_PERIOD]);
	if (c->period == 0)
		c->period = 1;
	len = rhx_emu_us_frames(e, rhx_emu_pulse_us(u));
	if (c->pulses_left == 0)
		e->trains++;
	c->pulses_left = pulses;
	c->next_pulse = start;
	c->busy_until = start + (pulses - 1) * c->period + len +
	    rhx_emu_us_frames(e, u[RHX_EMU_C_REFRACTORY]);
	return (0);
}

/* ManualStimTriggerPulse|On|Off Fn: fire the channels bound to the key. */
static void
rhx_emu_trigger(struct rhx_emu *e, const char *action, const char *arg)
{
	char		 line[RHX_EMU_REPLY_MAX];
	size_t		 i, len, fired = 0;
	uint64_t	 ft;
	int		 key, rise, fall, running, hl;
	const double	*u;

	if (arg == NULL || (arg[0] != 'F' && arg[0] != 'f') ||
	    arg[1] < '1' || arg[1] > '8' || arg[2] != '\0') {
		rhx_emu_error(e, "Invalid value for %s command. Acceptable: "
		    "F1 to F8", action);
		return;
	}
	key = arg[1] - '1';
	if (strcasecmp(action, "ManualStimTriggerOn") == 0) {
		rise = !e->key_on[key];
		fall = 0;
		e->key_on[key] = 1;
	} else if (strcasecmp(action, "ManualStimTriggerOff") == 0) {
		rise = 0;
		fall = e->key_on[key];
		e->key_on[key] = 0;
	} else
		rise = fall = 1;
	e->triggers++;
	running = e->gval[RHX_EMU_G_RUNMODE] != RHX_EMU_STOP;
	ft = rhx_emu_frames_now(e);
	if (running && ft < e->gen_frame)
		ft = e->gen_frame;
	len = (size_t)snprintf(line, sizeof line, "triggered F%d", key + 1);
	for (i = 0; running && i < e->nch; i++) {
		u = e->ch[i].uploaded;
		hl = (int)u[RHX_EMU_C_HIGH_LOW];
		if (u[RHX_EMU_C_STIM_ENABLED] == 0 ||
		    (int)u[RHX_EMU_C_SOURCE] != RHX_EMU_SOURCE_KEY0 + key ||
		    !((rise && hl == RHX_EMU_TRIGGER_HIGH) ||
		    (fall && hl == RHX_EMU_TRIGGER_LOW)))
			continue;
		if (rhx_emu_fire(e, i, ft) != 0)
			continue;
		fired++;
		if (len + 8 < sizeof line)
			len += (size_t)snprintf(line + len, sizeof line - len,
			    " %s", e->ch[i].name);
	}
	if (!running)
		emu_log("%s F%d while stopped: nothing delivered", action,
		    key + 1);
	emu_say("%s%s us=%llu frame=%llu", line, fired == 0 ? " none" : "",
	    (unsigned long long)(e->now_ns / 1000), (unsigned long long)ft);
}

/* execute UploadStimParameters [CHANNEL]. */
static void
rhx_emu_upload(struct rhx_emu *e, const char *arg)
{
	struct rhx_emu_channel	*c;
	size_t			 i;

	if (arg == NULL) {
		if (e->gval[RHX_EMU_G_RUNMODE] != RHX_EMU_STOP) {
			rhx_emu_error(e, "UploadStimParameters without a "
			    "channel cannot be executed while the controller "
			    "is running");
			return;
		}
		for (i = 0; i < e->nch; i++)
			memcpy(e->ch[i].uploaded, e->ch[i].val,
			    sizeof e->ch[i].val);
		return;
	}
	if ((c = rhx_emu_channel_find(e, arg, strlen(arg))) == NULL) {
		rhx_emu_error(e, "Unrecognized parameter");
		return;
	}
	memcpy(c->uploaded, c->val, sizeof c->val);
}

/* execute ACTION [ARG]. */
static void
rhx_emu_execute(struct rhx_emu *e, const char *action, const char *arg)
{
	char	shown[48];
	size_t	i;
	int	stopped = e->gval[RHX_EMU_G_RUNMODE] == RHX_EMU_STOP;

	if (strcasecmp(action, "ClearAllDataOutputs") == 0) {
		for (i = 0; i < e->nch; i++) {
			e->ch[i].val[RHX_EMU_C_WIDE] = 0;
			e->ch[i].val[RHX_EMU_C_LOW] = 0;
			e->ch[i].val[RHX_EMU_C_HIGH] = 0;
			e->ch[i].val[RHX_EMU_C_SPIKE] = 0;
			e->ch[i].val[RHX_EMU_C_DC] = 0;
			e->ch[i].val[RHX_EMU_C_STIMBAND] = 0;
		}
		return;
	}
	if (strcasecmp(action, "ConnectTCPSpikeDataOutput") == 0 ||
	    strcasecmp(action, "DisconnectTCPSpikeDataOutput") == 0) {
		rhx_emu_data_port(e, RHX_EMU_SPIKE, tolower(action[0]) == 'c');
		return;
	}
	if (strcasecmp(action, "ConnectTCPWaveformDataOutput") == 0 ||
	    strcasecmp(action, "DisconnectTCPWaveformDataOutput") == 0) {
		rhx_emu_data_port(e, RHX_EMU_WAVEFORM,
		    tolower(action[0]) == 'c');
		return;
	}
	if (strcasecmp(action, "UploadStimParameters") == 0 ||
	    strncasecmp(action, "ManualStimTrigger", 17) == 0 ||
	    strcasecmp(action, "UploadAmpSettleSettings") == 0 ||
	    strcasecmp(action, "UploadChargeRecoverySettings") == 0) {
		if (!e->stim_controller) {
			rhx_emu_printable(shown, sizeof shown, action);
			rhx_emu_error(e, "%s is only available on a "
			    "stimulation/recording controller", shown);
			return;
		}
	}
	if (strcasecmp(action, "UploadStimParameters") == 0) {
		rhx_emu_upload(e, arg);
		return;
	}
	if (strcasecmp(action, "ManualStimTriggerPulse") == 0 ||
	    strcasecmp(action, "ManualStimTriggerOn") == 0 ||
	    strcasecmp(action, "ManualStimTriggerOff") == 0) {
		rhx_emu_trigger(e, action, arg);
		return;
	}
	for (i = 0; rhx_emu_stopped_actions[i] != NULL; i++) {
		if (strcasecmp(action, rhx_emu_stopped_actions[i]) != 0)
			continue;
		if (!stopped) {
			rhx_emu_error(e, "%s cannot be executed while the "
			    "controller is running",
			    rhx_emu_stopped_actions[i]);
			return;
		}
		emu_log("execute %s: accepted, not emulated",
		    rhx_emu_stopped_actions[i]);
		return;
	}
	rhx_emu_printable(shown, sizeof shown, action);
	emu_log("execute '%s': no such action", shown);
	rhx_emu_error(e, "Unrecognized parameter");
}

/* Skip spaces and tabs. */
static char *
rhx_emu_skip(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return (s);
}

/* Split off the first word of *s (NUL-terminated); NULL if none. */
static char *
rhx_emu_word(char **s)
{
	char	*w = rhx_emu_skip(*s), *end;

	if (*w == '\0')
		return (NULL);
	for (end = w; *end != '\0' && *end != ' ' && *end != '\t'; end++)
		;
	if (*end != '\0')
		*end++ = '\0';
	*s = end;
	return (w);
}

/* Trim trailing whitespace in place. */
static void
rhx_emu_rtrim(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* One command (k: its place in the string read, from 1). */
static void
rhx_emu_command(struct rhx_emu *e, char *cmd, int k)
{
	char	*verb, *name, *rest;

	e->commands++;
	if (e->verbose)
		emu_log("command %d: %s", k, cmd);
	rest = cmd;
	if ((verb = rhx_emu_word(&rest)) == NULL)
		return;
	rest = rhx_emu_skip(rest);
	if (strcasecmp(verb, "get") == 0) {
		name = rhx_emu_word(&rest);
		if (name == NULL || *rhx_emu_skip(rest) != '\0') {
			rhx_emu_error(e, "Error - Command %d: get takes one "
			    "parameter name", k);
			return;
		}
		rhx_emu_get(e, name);
	} else if (strcasecmp(verb, "set") == 0) {
		name = rhx_emu_word(&rest);
		if (name == NULL) {
			rhx_emu_error(e, "Error - Command %d: set takes a "
			    "parameter name and a value", k);
			return;
		}
		rest = rhx_emu_skip(rest);
		rhx_emu_set(e, name, rest);
	} else if (strcasecmp(verb, "execute") == 0) {
		name = rhx_emu_word(&rest);
		if (name == NULL) {
			rhx_emu_error(e, "Error - Command %d: execute takes an "
			    "action", k);
			return;
		}
		rest = rhx_emu_skip(rest);
		if (*rest != '\0' && strchr(rest, ' ') != NULL) {
			rhx_emu_error(e, "Error - Command %d: execute takes "
			    "an action and at most one argument", k);
			return;
		}
		rhx_emu_execute(e, name, *rest == '\0' ? NULL : rest);
	} else if (strcasecmp(verb, "LiveNotes") == 0) {
		if (e->gval[RHX_EMU_G_RUNMODE] != RHX_EMU_RECORD)
			rhx_emu_error(e, "LiveNotes can only be sent while "
			    "recording");
	} else
		rhx_emu_error(e, "Error - Command %d: Unrecognized command", k);
}

/* One read from the command socket: one string, split on ';'. */
static void
rhx_emu_commands(struct rhx_emu *e, char *s, size_t len)
{
	char	*cmd, *end;
	size_t	 i;
	int	 k = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			s[i] = 0x7f;	/* a NUL makes the word invalid */
	}
	s[len] = '\0';
	for (cmd = s; cmd != NULL; cmd = end) {
		if ((end = strchr(cmd, ';')) != NULL)
			*end++ = '\0';
		cmd = rhx_emu_skip(cmd);
		while (*cmd == '\r' || *cmd == '\n')
			cmd = rhx_emu_skip(cmd + 1);
		rhx_emu_rtrim(cmd);
		if (*cmd == '\0')
			continue;
		rhx_emu_command(e, cmd, ++k);
	}
}

/* Read what a client sent: commands, or (data ports) discard it. */
static void
rhx_emu_client_input(struct rhx_emu *e, struct rhx_emu_port *p)
{
	static char	buf[RHX_EMU_READ_MAX + 1];
	ssize_t		n;

	n = read(p->client_fd, buf, RHX_EMU_READ_MAX);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == -1)
			emu_log("%s port: read: %s", p->name,
			    strerror(errno));
		rhx_emu_client_gone(e, p);
		return;
	}
	if (p == &e->port[RHX_EMU_COMMAND])
		rhx_emu_commands(e, buf, (size_t)n);
}

/* Write what is queued for a client (spikes split with "split"). */
static void
rhx_emu_flush(struct rhx_emu *e, struct rhx_emu_port *p)
{
	struct rhx_emu_out	*o = &p->out;
	size_t			 n, piece;
	ssize_t			 w;
	int			 split;

	split = e->split && p == &e->port[RHX_EMU_SPIKE];
	while (p->client_fd != -1 && o->off < o->len) {
		n = o->len - o->off;
		if (split) {
			if (e->now_ns < e->split_next_ns)
				return;
			piece = 1 + (size_t)(rhx_emu_random(e) % 13);
			if (n > piece)
				n = piece;
		}
		w = send(p->client_fd, o->data + o->off, n,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			emu_log("%s port: write: %s", p->name,
			    strerror(errno));
			rhx_emu_client_gone(e, p);
			return;
		}
		o->off += (size_t)w;
		if (split && o->len - o->off <= RHX_EMU_SPLIT_BACKLOG) {
			e->split_next_ns = e->now_ns + RHX_EMU_SPLIT_GAP_NS;
			return;
		}
	}
	if (o->off == o->len)
		o->off = o->len = 0;
}

/* Close every socket and start again as a fresh RHX on the same ports. */
static void
rhx_emu_restart(struct rhx_emu *e)
{
	int	i;

	for (i = 0; i < RHX_EMU_NPORTS; i++)
		rhx_emu_disarm(&e->port[i]);
	emu_say("restarted");
	for (i = 0; i < RHX_EMU_NPORTS; i++) {
		if (rhx_emu_arm(e, &e->port[i], e->port[i].first) != 0) {
			rhx_emu_stop = -1;
			return;
		}
	}
	rhx_emu_reset(e);
	emu_say("ready %u %u %u", (unsigned)e->port[RHX_EMU_COMMAND].port,
	    (unsigned)e->port[RHX_EMU_SPIKE].port,
	    (unsigned)e->port[RHX_EMU_WAVEFORM].port);
}

/* A port by its name (command, spike, waveform), or NULL. */
static struct rhx_emu_port *
rhx_emu_port_named(struct rhx_emu *e, const char *name)
{
	int	i;

	for (i = 0; i < RHX_EMU_NPORTS; i++) {
		if (e->port[i].present && strcmp(e->port[i].name, name) == 0)
			return (&e->port[i]);
	}
	return (NULL);
}

/* Print the delivered pulses, oldest first, and an end line. */
static void
rhx_emu_print_stim_log(struct rhx_emu *e)
{
	struct rhx_emu_stim	*s;
	size_t			 i;

	for (i = 0; i < e->stim_log_len; i++) {
		s = &e->stim_log[(e->stim_log_head + i) % RHX_EMU_STIM_LOG_MAX];
		emu_say("stim %s %llu %g %g", e->ch[s->channel].name,
		    (unsigned long long)s->frame, s->amplitude, s->first_us);
	}
	emu_say("stim_log end %llu",
	    (unsigned long long)e->stim_log_total);
}

/* One control command. */
static void
rhx_emu_control(struct rhx_emu *e, char *s)
{
	struct rhx_emu_port	*p;
	unsigned char		*junk;
	char			 shown[64], word[16], arg[32];
	double			 n = -1;
	size_t			 i;
	int			 args;

	args = sscanf(s, "%15s %31s", word, arg);
	if (args < 1)
		return;
	if (args == 2 && rhx_emu_number(arg, &n) != 0)
		n = -1;
	if (strcmp(word, "split") == 0) {
		e->split = !(args == 2 && strcmp(arg, "off") == 0);
		e->split_next_ns = 0;
	} else if (strcmp(word, "badmagic") == 0)
		e->badmagic = 1;
	else if (strcmp(word, "garbage") == 0 && n >= 0 &&
	    n <= RHX_EMU_GARBAGE_MAX && n == floor(n)) {
		p = &e->port[RHX_EMU_SPIKE];
		if (p->client_fd == -1) {
			emu_log("garbage: no spike client");
			return;
		}
		if ((junk = malloc((size_t)n + 1)) == NULL)
			return;
		for (i = 0; i < (size_t)n; i++)
			junk[i] = (unsigned char)rhx_emu_random(e);
		rhx_emu_out_put(&p->out, junk, (size_t)n);
		free(junk);
	} else if (strcmp(word, "restart") == 0)
		rhx_emu_restart(e);
	else if (strcmp(word, "stall") == 0 && n >= 0 && n <= 600000)
		e->stall_until_ns = e->now_ns + (uint64_t)(n * 1e6);
	else if (strcmp(word, "rearm") == 0) {
		p = &e->port[RHX_EMU_COMMAND];
		rhx_emu_reap(e, p);
		if (p->client_fd != -1)
			emu_log("rearm: the command port has a client");
		else if (p->listen_fd == -1 && rhx_emu_arm(e, p, 0) == 0)
			emu_say("listening %s %u", p->name,
			    (unsigned)p->port);
	} else if (strcmp(word, "hangup") == 0 && args == 2 &&
	    (p = rhx_emu_port_named(e, arg)) != NULL) {
		if (p->client_fd != -1)
			rhx_emu_client_gone(e, p);
	} else if (strcmp(word, "rate") == 0 && n >= 0 && n <= 1000)
		e->spike_rate = n;
	else if (strcmp(word, "stats") == 0)
		rhx_emu_stats(e);
	else if (strcmp(word, "stim_log") == 0)
		rhx_emu_print_stim_log(e);
	else if (strcmp(word, "quit") == 0)
		rhx_emu_stop = SIGTERM;
	else {
		rhx_emu_printable(shown, sizeof shown, s);
		emu_log("control: '%s' not understood", shown);
	}
}

/* One control line (emu_control's callback). */
static void
rhx_emu_control_line(void *arg, char *line)
{
	rhx_emu_control(arg, line);
}

/* The earliest of two deadlines (0: none). */
static uint64_t
rhx_emu_earliest(uint64_t a, uint64_t b)
{
	if (a == 0)
		return (b);
	if (b == 0)
		return (a);
	return (a < b ? a : b);
}

/* Serve until a signal or "quit". */
static void
rhx_emu_loop(struct rhx_emu *e, const sigset_t *unblocked)
{
	struct pollfd		 pfd[1 + 2 * RHX_EMU_NPORTS];
	struct rhx_emu_port	*owner[1 + 2 * RHX_EMU_NPORTS], *p;
	struct timespec		 ts, *tsp;
	uint64_t		 due, wait;
	nfds_t			 nfd, j;
	int			 i, stalled;

	while (!rhx_emu_stop) {
		e->now_ns = emu_now_ns();
		rhx_emu_acquire(e);
		for (i = 0; i < RHX_EMU_NPORTS; i++)
			rhx_emu_flush(e, &e->port[i]);
		stalled = e->now_ns < e->stall_until_ns;

		due = 0;
		if (e->gval[RHX_EMU_G_RUNMODE] != RHX_EMU_STOP)
			due = rhx_emu_next_write_ns(e);
		if (stalled)
			due = rhx_emu_earliest(due, e->stall_until_ns);
		p = &e->port[RHX_EMU_SPIKE];
		if (e->split && p->client_fd != -1 && p->out.off < p->out.len)
			due = rhx_emu_earliest(due, e->split_next_ns);

		nfd = 0;
		if (e->ctl.fd != -1) {
			pfd[nfd].fd = e->ctl.fd;
			pfd[nfd].events = POLLIN;
			owner[nfd++] = NULL;
		}
		/*
		 * Data ports before the command port: a data client's hangup
		 * is seen before a Connect... sent after it.
		 */
		for (i = RHX_EMU_NPORTS - 1; i >= 0; i--) {
			p = &e->port[i];
			if (p->listen_fd != -1) {
				pfd[nfd].fd = p->listen_fd;
				pfd[nfd].events = POLLIN;
				owner[nfd++] = p;
			}
			if (p->client_fd != -1) {
				pfd[nfd].fd = p->client_fd;
				pfd[nfd].events = 0;
				if (!(stalled && i == RHX_EMU_COMMAND))
					pfd[nfd].events |= POLLIN;
				if (p->out.off < p->out.len &&
				    !(e->split && i == RHX_EMU_SPIKE &&
				    e->now_ns < e->split_next_ns))
					pfd[nfd].events |= POLLOUT;
				owner[nfd++] = p;
			}
		}
		tsp = NULL;
		if (due != 0) {
			wait = due > e->now_ns ? due - e->now_ns : 0;
			ts.tv_sec = (time_t)(wait / 1000000000ULL);
			ts.tv_nsec = (long)(wait % 1000000000ULL);
			tsp = &ts;
		}
		if (ppoll(pfd, nfd, tsp, unblocked) == -1) {
			if (errno == EINTR)
				continue;
			emu_log("ppoll: %s", strerror(errno));
			return;
		}
		e->now_ns = emu_now_ns();
		/* Control first: a fault set before a request applies to it. */
		emu_control_drain(&e->ctl);
		for (j = 0; j < nfd && !rhx_emu_stop; j++) {
			p = owner[j];
			if (pfd[j].revents == 0)
				continue;
			if (p == NULL)
				continue;	/* drained above */
			if (pfd[j].fd == p->listen_fd) {
				rhx_emu_accept(e, p);
				continue;
			}
			if (pfd[j].fd != p->client_fd)
				continue;	/* closed meanwhile */
			if (p == &e->port[RHX_EMU_COMMAND] &&
			    e->now_ns < e->stall_until_ns)
				continue;	/* stalled meanwhile */
			if (pfd[j].revents & POLLIN)
				rhx_emu_client_input(e, p);
			else if (pfd[j].revents & (POLLHUP | POLLERR))
				rhx_emu_client_gone(e, p);
		}
	}
}

/* Parse an option's number in lo..hi or exit. */
static double
rhx_emu_optnum(const char *name, const char *s, double lo, double hi)
{
	double	v;

	if (rhx_emu_number(s, &v) != 0 || !(v >= lo && v <= hi)) {
		emu_log("--%s %s: need a number %g-%g", name, s, lo, hi);
		exit(2);
	}
	return (v);
}

/* Order channels as RHX does: port letter, then number. */
static int
rhx_emu_channel_cmp(const void *pa, const void *pb)
{
	const struct rhx_emu_channel	*a = pa, *b = pb;

	if (a->letter != b->letter)
		return (a->letter - b->letter);
	return (a->number - b->number);
}

/* Parse --channels (X-NNN or X-NNN..X-MMM, comma separated); 0 or -1. */
static int
rhx_emu_parse_channels(struct rhx_emu *e, const char *spec)
{
	char		l0, l1, tail;
	int		n0, n1, got, k, len = 0;
	const char	*s = spec;
	size_t		i;

	e->nch = 0;
	while (*s != '\0') {
		got = sscanf(s, "%c-%3d%n..%c-%3d%n", &l0, &n0, &len, &l1,
		    &n1, &len);
		if (got == 2)
			l1 = l0, n1 = n0;
		else if (got != 4)
			return (-1);
		s += len;
		tail = *s;
		if (tail == ',')
			s++;
		else if (tail != '\0')
			return (-1);
		l0 = (char)toupper((unsigned char)l0);
		l1 = (char)toupper((unsigned char)l1);
		if (l0 < 'A' || l0 > 'H' || l1 != l0 || n0 < 0 || n1 < n0 ||
		    n1 > 999)
			return (-1);
		for (k = n0; k <= n1; k++) {
			if (e->nch >= RHX_EMU_CHANNELS_MAX)
				return (-1);
			for (i = 0; i < e->nch; i++) {
				if (e->ch[i].letter == l0 &&
				    e->ch[i].number == k)
					return (-1);
			}
			e->ch[e->nch].letter = l0;
			e->ch[e->nch].number = k;
			snprintf(e->ch[e->nch].name, sizeof e->ch[e->nch].name,
			    "%c-%03u", l0, (unsigned)k % 1000);
			e->nch++;
		}
	}
	if (e->nch == 0)
		return (-1);
	qsort(e->ch, e->nch, sizeof *e->ch, rhx_emu_channel_cmp);
	return (0);
}

/* The waveform of one threshold crossing, in µV, sample by sample. */
static void
rhx_emu_make_shape(struct rhx_emu *e)
{
	double	t;
	size_t	i;

	e->shape_len = (size_t)(0.0015 * e->fs) + 1;
	if (e->shape_len > RHX_EMU_SHAPE_MAX)
		e->shape_len = RHX_EMU_SHAPE_MAX;
	for (i = 0; i < e->shape_len; i++) {
		t = (double)i * 1000 / e->fs;	/* ms */
		e->shape[i] = (int)lround(-110 * exp(-pow((t - 0.2) / 0.12,
		    2)) + 35 * exp(-pow((t - 0.6) / 0.3, 2)));
	}
}

/* Print the usage and exit. */
static void __attribute__((noreturn))
rhx_emu_usage(void)
{
	fprintf(stderr, "usage: rhx-emu --command-port P --spike-port P "
	    "[--waveform-port P]\n"
	    "    [--controller stim|record] [--sample-rate HZ] "
	    "[--step-ua UA]\n"
	    "    [--channels A-000..A-031] [--spike-rate HZ] "
	    "[--artifact-fraction F]\n"
	    "    [--seed N] [--control FIFO] [--stay-pending] "
	    "[--verbose]\n");
	exit(2);
}

static const struct option rhx_emu_options[] = {
	{ "command-port", required_argument, NULL, 'c' },
	{ "spike-port", required_argument, NULL, 's' },
	{ "waveform-port", required_argument, NULL, 'w' },
	{ "controller", required_argument, NULL, 'C' },
	{ "sample-rate", required_argument, NULL, 'r' },
	{ "step-ua", required_argument, NULL, 'u' },
	{ "channels", required_argument, NULL, 'h' },
	{ "spike-rate", required_argument, NULL, 'R' },
	{ "artifact-fraction", required_argument, NULL, 'a' },
	{ "seed", required_argument, NULL, 'S' },
	{ "control", required_argument, NULL, 'f' },
	{ "stay-pending", no_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* Parse the options, listen, serve until told to stop. */
int
main(int argc, char **argv)
{
	static struct rhx_emu	 emu;
	struct rhx_emu		*e = &emu;
	struct sigaction	 sa;
	sigset_t		 block, unblocked;
	const char		*channels = "A-000..A-031";
	double			 rate = 30000, v;
	uint64_t		 seed = 1;
	pid_t			 ppid;
	int			 ch, i, status = 0;

	emu_util_name("rhx-emu");
	e->stim_controller = 1;
	e->step_ua = 1;
	e->spike_rate = 5;
	e->ctl.fd = -1;
	e->port[RHX_EMU_COMMAND].name = "command";
	e->port[RHX_EMU_SPIKE].name = "spike";
	e->port[RHX_EMU_WAVEFORM].name = "waveform";
	e->port[RHX_EMU_COMMAND].out.max = RHX_EMU_CMD_OUT_MAX;
	e->port[RHX_EMU_SPIKE].out.max = RHX_EMU_SPIKE_OUT_MAX;
	e->port[RHX_EMU_WAVEFORM].out.max = RHX_EMU_WAVE_OUT_MAX;
	for (i = 0; i < RHX_EMU_NPORTS; i++)
		e->port[i].listen_fd = e->port[i].client_fd = -1;

	while ((ch = getopt_long(argc, argv, "", rhx_emu_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 's':
		case 'w':
			i = ch == 'c' ? RHX_EMU_COMMAND : ch == 's' ?
			    RHX_EMU_SPIKE : RHX_EMU_WAVEFORM;
			e->port[i].asked = (uint16_t)rhx_emu_optnum(
			    e->port[i].name, optarg, 0, 65535);
			e->port[i].present = 1;
			break;
		case 'C':
			if (strcmp(optarg, "stim") == 0)
				e->stim_controller = 1;
			else if (strcmp(optarg, "record") == 0)
				e->stim_controller = 0;
			else {
				emu_log("--controller %s: need stim or "
				    "record", optarg);
				exit(2);
			}
			break;
		case 'r':
			rate = rhx_emu_optnum("sample-rate", optarg, 1, 1e6);
			break;
		case 'u':
			e->step_ua = rhx_emu_optnum("step-ua", optarg, 0.001,
			    100);
			break;
		case 'h':
			channels = optarg;
			break;
		case 'R':
			e->spike_rate = rhx_emu_optnum("spike-rate", optarg, 0,
			    1000);
			break;
		case 'a':
			e->artifact_fraction = rhx_emu_optnum(
			    "artifact-fraction", optarg, 0, 1);
			break;
		case 'S':
			seed = (uint64_t)rhx_emu_optnum("seed", optarg, 0,
			    9007199254740992.0);
			break;
		case 'f':
			e->control = optarg;
			break;
		case 'p':
			e->stay_pending = 1;
			break;
		case 'v':
			e->verbose = 1;
			break;
		default:
			rhx_emu_usage();
		}
	}
	if (optind != argc || !e->port[RHX_EMU_COMMAND].present ||
	    !e->port[RHX_EMU_SPIKE].present)
		rhx_emu_usage();
	for (i = 0; rhx_emu_rates[i].text != NULL; i++) {
		if (fabs(rhx_emu_rates[i].hz - rate) < 0.1 &&
		    (rhx_emu_rates[i].rhs || !e->stim_controller))
			break;
	}
	if (rhx_emu_rates[i].text == NULL) {
		emu_log("--sample-rate %g: a %s controller offers %s", rate,
		    e->stim_controller ? "stimulation" : "recording",
		    e->stim_controller ? "20000, 25000, 30000" :
		    "1000, 1250, 1500, 2000, 2500, 3000, 3333.3, 4000, 5000, "
		    "6250, 8000, 10000, 12500, 15000, 20000, 25000, 30000");
		exit(2);
	}
	e->fs = rhx_emu_rates[i].hz;
	e->fs_text = rhx_emu_rates[i].text;
	for (i = 0; (v = rhx_emu_steps[i]) != 0; i++) {
		if (fabs(v - e->step_ua) < v * 1e-6)
			break;
	}
	if (v == 0) {
		emu_log("--step-ua %g: need one of 0.01, 0.02, 0.05, 0.1, "
		    "0.2, 0.5, 1, 2, 5, 10", e->step_ua);
		exit(2);
	}
	e->step_ua = v;
	e->ch = calloc(RHX_EMU_CHANNELS_MAX, sizeof *e->ch);
	e->pending = calloc(RHX_EMU_EVENTS_MAX, sizeof *e->pending);
	e->block = calloc(RHX_EMU_EVENTS_MAX, sizeof *e->block);
	e->stim_log = calloc(RHX_EMU_STIM_LOG_MAX, sizeof *e->stim_log);
	if (e->ch == NULL || e->pending == NULL || e->block == NULL ||
	    e->stim_log == NULL) {
		emu_log("out of memory");
		exit(1);
	}
	if (rhx_emu_parse_channels(e, channels) != 0) {
		emu_log("--channels %s: need X-NNN or X-NNN..X-MMM (X in "
		    "A-H), comma separated, distinct, at most %d", channels,
		    RHX_EMU_CHANNELS_MAX);
		exit(2);
	}
	e->rng = seed;
	rhx_emu_make_shape(e);

	/* Signals arrive only inside ppoll(). */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = rhx_emu_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* A test that dies without stopping us does not leave us behind. */
	ppid = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		emu_log("prctl: %s", strerror(errno));
	else if (getppid() != ppid)
		rhx_emu_stop = SIGTERM;

	if (e->control != NULL && emu_control_open(&e->ctl, e->control,
	    rhx_emu_control_line, e) != 0)
		exit(1);
	for (i = 0; i < RHX_EMU_NPORTS; i++) {
		if (rhx_emu_arm(e, &e->port[i], 0) != 0) {
			status = 1;
			goto out;
		}
		e->port[i].first = e->port[i].port;
	}
	rhx_emu_reset(e);
	emu_say("ready %u %u %u", (unsigned)e->port[RHX_EMU_COMMAND].port,
	    (unsigned)e->port[RHX_EMU_SPIKE].port,
	    (unsigned)e->port[RHX_EMU_WAVEFORM].port);
	rhx_emu_loop(e, &unblocked);
	if (rhx_emu_stop == -1)
		status = 1;
	rhx_emu_stats(e);

out:
	for (i = 0; i < RHX_EMU_NPORTS; i++) {
		rhx_emu_disarm(&e->port[i]);
		free(e->port[i].out.data);
	}
	emu_control_close(&e->ctl, e->control);
	free(e->ch);
	free(e->pending);
	free(e->block);
	free(e->stim_log);
	return (status);
}
