import { createHash } from 'node:crypto';
import { decodeHTML } from 'entities';
import type { Application } from '@microsoft/teams-ai';
import { ActivityTypes, CardFactory, MessageFactory, TurnContext, type Activity, type FileConsentCardResponse } from 'botbuilder';
import type { Core } from '../../src/app.js';
import { EVIDENCE_REQUEST, deletedEvidenceReply, editedEvidenceReply, showAnswer, type Answer, type Request } from '../../src/core/inbound.js';
import { type Attachment, withinQuotedPhrase } from '../../src/core/router.js';
import { invalid } from '../../src/core/errors.js';
import { fetchEach } from '../../src/core/attachments.js';
import { type Reply, type Tone, formBlock, reply, text } from '../../src/core/reply.js';
import { SUBMIT_VERB, type SubmitData, formValues, replyCard, submittedForm } from './cards.js';
import { evidenceMessage, evidenceRequestRepliedTo, forgetReference, latestEvidenceRequest, loadReference, recordEvidenceMessage, saveReference } from './addresses.js';
import { type TeamsFile, FileDownloadError, downloadFile, filesIn, picturesIn, sharedLinksIn } from './files.js';
import { type TeamsOutbound, answerMayHaveArrived, isPersonalChat, safeError, sendProgress } from './outbound.js';
import { type OfferContext, type UploadInfo, fileInfoAttachment, removeExportFolder, uploadFile } from './offers.js';
import { entraIdOf, teamsUser } from './user.js';
import { answerOnce, releaseClaim } from '../../src/core/claims.js';
import { canonicalJson } from '../../src/core/audit.js';
import { findPersonById } from '../../src/core/actor.js';
import { forgetTeamRoster, linkTeamRoster, teamIdOf } from './roster.js';

/**
 * What people do in Teams, translated for the inbound pipeline: a typed message (or a file), a click
 * or form submission on a card, the bot being added to a personal chat. The answer goes back into
 * the conversation, or, when it is private and the conversation is shared, to the personal chat.
 */
export function addRoutes(app: Application, core: Core, out: TeamsOutbound): void {
  const { logger, config } = core;
  const db = core.database.db;

  const ask = async (context: TurnContext, request: Request, attachments?: () => Promise<Attachment[]>, idempotencyKey?: string): Promise<Answer> => core.inbound.handle({
    from: { user: await teamsUser(context, logger) },
    channel: 'teams',
    request,
    attachments,
    // Teams retries a turn it thinks timed out with the same activity id: it must record once.
    idempotencyKey: idempotencyKey ?? `teams:${context.activity.conversation.id}:${context.activity.id}`,
    progress: (message) => sendProgress(context, message),
    logContext: { activityType: context.activity.type, activityId: context.activity.id },
  });

  /** Only the person who asked may see a private answer: from a channel or group chat it goes to their personal chat. */
  async function answer(context: TurnContext, answered: Answer): Promise<void> {
    try {
      await showAnswer(answered.reply, (reply) => deliverAnswer(context, { ...answered, reply }));
    } finally {
      await out.discardUnoffered(answered.reply);
    }
  }

  async function deliverAnswer(context: TurnContext, { reply: result, person }: Answer): Promise<void> {
    const personal = isPersonalChat(context.activity);
    if (person && personal) await saveReference(db, person.id, TurnContext.getConversationReference(context.activity));
    if (personal || result.visibility === 'public') {
      await out.sendHere(context, result, person);
      return;
    }
    // The channel learns only where the answer went, never what it says.
    const name = person?.name ?? context.activity.from.name;
    const say = (sentence: string) => (name ? `${name}, ${sentence}` : sentence[0].toUpperCase() + sentence.slice(1));
    const sent = await out.sendPrivately(context, result, person);
    // A personal chat whose activity did not say so: the answer is there already, and nobody else reads it.
    if (sent === 'here') return;
    if (sent) {
      await out.sendHere(context, reply(text(say(`I've sent you the ${result.outcome === 'form' ? 'form' : 'answer'} in our personal chat.`))));
    } else if (hasFile(result)) {
      await out.sendHere(context, reply(text(say(`I can hand you files only in our personal chat, and I can't reach you there: open a personal chat with me and ask there.`), 'warning')));
    } else if (result.outcome === 'recorded') {
      await out.sendHere(context, reply(text(say(`done. The details are only for you, and I can't reach you in a personal chat: open a personal chat with me so I can send you answers like this one.`), 'warning')));
    } else {
      await out.sendHere(context, reply(text(say(`my answer is only for you, and I can't reach you in a personal chat: open a personal chat with me and ask there.`), 'warning')));
    }
  }

  app.conversationUpdate('membersAdded', async (context) => {
    const botId = context.activity.recipient?.id;
    const botAdded = context.activity.membersAdded?.some((m) => m.id === botId);
    if (teamIdOf(context) && !isPersonalChat(context.activity)) {
      // The app was installed in a team, or someone joined one it is in: its members become reachable.
      try {
        await linkTeamRoster(context, db, logger);
      } catch (e) {
        logger.warn({ err: safeError(e), teamId: teamIdOf(context) }, 'could not read the roster of a Teams team');
      }
      return;
    }
    if (!botAdded || !isPersonalChat(context.activity)) return;
    await welcome(context);
  });

  /**
   * The welcome in a personal chat, said once per install of the app there: a first install sends both
   * a conversationUpdate and an installationUpdate, a reinstall (after the app was removed) only the
   * latter, and neither welcomes twice, however often Teams delivers them. A removal lets the next install
   * welcome again. `unlessKnown`: a chat the bot already holds for the person was never removed, so this is
   * no new install (they were welcomed, or have been writing, before the bot kept track of welcomes).
   */
  const welcomeKey = (conversationId: string) => `teams:welcomed:${conversationId}`;
  async function welcome(context: TurnContext, unlessKnown = false): Promise<void> {
    const conversationId = context.activity.conversation.id;
    await answerOnce(db, welcomeKey(conversationId), async () => {
      const identified = await core.inbound.identify(await teamsUser(context, logger));
      if (!identified.person) {
        await out.sendHere(context, identified.refusal);
        return;
      }
      const person = identified.person;
      if (unlessKnown && (await loadReference(db, person.id))?.conversation?.id === conversationId) return;
      await saveReference(db, person.id, TurnContext.getConversationReference(context.activity));
      await out.sendHere(context, reply(
        text(`Hello ${person.name}, I'm the ISMS bot. I keep the register of our information security management system.`),
        text('Type "help" to see what you can do, or "declare ai ChatGPT" to declare an AI tool you use.'),
      ), person);
    }, answerMayHaveArrived);
  }

  /** The app left a team, or members left it: the members it took as reachable through that team no longer are. */
  const forget = async (context: TurnContext, memberIds?: string[]) => {
    const teamId = teamIdOf(context);
    if (!teamId || isPersonalChat(context.activity)) return;
    const forgotten = await forgetTeamRoster(db, teamId, memberIds);
    logger.info({ teamId, forgotten, appRemoved: !memberIds }, 'Teams: forgot the members no longer reachable through a team');
  };
  app.conversationUpdate('membersRemoved', async (context) => {
    const removed = context.activity.membersRemoved ?? [];
    await forget(context, removed.some((m) => m.id === context.activity.recipient?.id) ? undefined : removed.map((m) => m.id));
  });
  app.conversationUpdate('teamDeleted', (context) => forget(context));
  app.conversationUpdate('teamHardDeleted', (context) => forget(context));
  /**
   * The app removed from, or added again to, a person's personal scope: Teams refuses the bot's
   * messages in that chat while it is removed, and a second install sends no conversationUpdate, only
   * this. The chat is forgotten, then stored again (with a welcome), so nudges wait in between and reach them after.
   * An upgrade of the app ("add-upgrade") is no new install.
   */
  app.activity(ActivityTypes.InstallationUpdate, async (context) => {
    const { activity } = context;
    if (!isPersonalChat(activity)) {
      if (activity.action === 'remove') await forget(context);
      return;
    }
    if (activity.action === 'remove') {
      const forgotten = await forgetReference(db, activity.conversation.id);
      await releaseClaim(db, welcomeKey(activity.conversation.id));
      logger.info({ forgotten }, 'Teams: the app was removed from a personal chat; forgot it until it is added again');
    } else if (activity.action === 'add') {
      await welcome(context, true);
    }
  });

  app.adaptiveCards.actionSubmit(SUBMIT_VERB, async (context, _state, data: SubmitData & Record<string, unknown>) => {
    const { activity } = context;
    // Answered once per delivery, as a typed message is: Teams delivers a click again (same activity) when our 200 came late.
    const answered = await answerOnce(db, answeredKey(activity), async () => {
      const request: Request | undefined = typeof data.command === 'string' ? { line: data.command }
        : typeof data.form === 'string' ? { command: data.form, values: formValues(data) } : undefined;
      if (!request) {
        await out.sendHere(context, reply(text('That button is from an older version of this bot; type the command instead ("help" lists them).', 'error')));
        return;
      }
      const click = clickKey(activity);
      const answered = await ask(context, request, undefined, click);
      const form = answered.reply.outcome === 'refused' && answered.reply.fieldErrors ? submittedForm(data) : undefined;
      // A refused form comes back as it was filled in, with each reason under its field.
      if (form) await answer(context, { ...answered, reply: { ...answered.reply, blocks: [...answered.reply.blocks.filter((b) => b.type === 'text'), formBlock(form)] } });
      else if (answered.reply.outcome !== 'recorded' || !click) await answerClick(context, answered);
      // A double click gets the first click's record back: its answer is shown once.
      else if (!await answerOnce(db, `${click}:answered`, () => answerClick(context, answered), answerMayHaveArrived)) {
        logger.info({ activityId: activity.id }, 'a Teams card action clicked again was answered already; not answered twice');
      }
    }, answerMayHaveArrived);
    if (!answered) logger.info({ activityId: activity.id }, 'Teams delivered a card click again that was answered already, or whose answer may have arrived; not answered twice');
  });

  /**
   * After a click that recorded something, the card is replaced by one saying what was recorded,
   * by whom and when. Any other answer comes as a new message and the card stays; so does a shared
   * card when the answer is private.
   */
  async function answerClick(context: TurnContext, answered: Answer): Promise<void> {
    const { reply: result, person } = answered;
    const cardId = context.activity.replyToId;
    if (result.outcome !== 'recorded' || hasFile(result) || !cardId || !person || !(isPersonalChat(context.activity) || result.visibility === 'public')) {
      await answer(context, answered);
      return;
    }
    const timezone = person.timezone ?? config.defaultTimezone;
    const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: timezone }).format(new Date());
    const outcome = replyCard(result, `Recorded by ${person.name}, ${when} (${timezone})`);
    // A card that could not be replaced must not end in "nothing was recorded": the person would click again.
    await showAnswer(result, () => context.updateActivity({ ...MessageFactory.attachment(CardFactory.adaptiveCard(outcome)), id: cardId }).then(() => undefined));
    if (result.about) await out.linkMessage(context.activity.conversation.id, cardId, result.about, person.id);
  }

  /**
   * A click on a file consent card is answered with the status of what became of it: 200 once the file
   * is in the person's OneDrive, or once they were told why it is not (a message that may have arrived
   * counts); 500 when that could not be said, so Teams shows the click failed instead of nothing. A
   * message the Bot Connector will not post never fails the turn: the apology for a fault would say
   * nothing was recorded, after the file was saved.
   */
  const onConsent = (action: 'accept' | 'decline', handler: (context: TurnContext, response: FileConsentCardResponse) => Promise<boolean>) => {
    app.addRoute(async (context) => context.activity.type === ActivityTypes.Invoke && context.activity.name === 'fileConsent/invoke'
      && (context.activity.value as FileConsentCardResponse | undefined)?.action === action, async (context) => {
      const done = await handler(context, (context.activity.value ?? {}) as FileConsentCardResponse);
      await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: done ? 200 : 500 } });
    }, true);
  };
  /** Says something in the conversation of a consent click; false (and logged) when the Bot Connector surely did not post it. */
  const tellConsent = async (context: TurnContext, send: () => Promise<unknown>): Promise<boolean> => {
    try {
      await send();
      return true;
    } catch (e) {
      if (answerMayHaveArrived(e)) return true;
      logger.warn({ err: safeError(e), activityId: context.activity.id }, 'could not answer a click on a Teams file consent card');
      return false;
    }
  };

  /** Accept on a file consent card: the offer is claimed once, by the person it was made to, and uploaded. */
  onConsent('accept', async (context, response) => {
    const info: UploadInfo = response.uploadInfo ?? {};
    const claim = await out.offers.claim(offerIdOf(response.context), await entraIdOf(context));
    const say = (sentence: string, tone?: Tone) => tellConsent(context, () => out.sendHere(context, reply(text(sentence, tone))));
    switch (claim.status) {
      case 'missing':
        return say(offerGone(info.name), 'warning');
      case 'not yours':
        return say('This file was offered to someone else, so I did not send it.', 'error');
      case 'already sent':
        return say(`I already sent ${claim.offer.name} to your OneDrive.`);
    }
    const { offer } = claim;
    try {
      await uploadFile(offer.path, info.uploadUrl ?? '');
    } catch (e) {
      logger.warn({ err: safeError(e), offerId: offer.id }, 'could not upload a file to the person\'s OneDrive');
      await out.offers.withdraw(offer.id);
      return say(`I could not save ${offer.name} to your OneDrive. Ask me again for the file and accept the new offer.`, 'error');
    }
    await removeExportFolder(offer.path).catch((e: unknown) => logger.warn({ err: safeError(e), offerId: offer.id }, 'could not remove the temporary copy of a file saved to OneDrive'));
    const saved = `Saved to your OneDrive: ${offer.title}.`;
    // The file is in their OneDrive whatever becomes of the card showing it: without the card, the sentence alone.
    if (!await tellConsent(context, () => context.sendActivity({ ...MessageFactory.attachment(fileInfoAttachment(info), saved), summary: `Saved ${offer.name} to your OneDrive` }))) {
      await tellConsent(context, () => context.sendActivity(MessageFactory.text(saved)));
    }
    return true;
  });

  /** Decline: the offer is dropped and its file removed; a decline delivered again gets the same answer. */
  onConsent('decline', async (context, response) => {
    const declined = await out.offers.decline(offerIdOf(response.context), await entraIdOf(context));
    const said = declined.status === 'declined' ? `All right, I won't send ${declined.offer.name}; my copy of it is deleted.`
      : declined.status === 'already sent' ? `I already sent ${declined.offer.name} to your OneDrive.`
        : 'That file offer is no longer open; nothing was sent.';
    return tellConsent(context, () => out.sendHere(context, reply(text(said))));
  });

  app.activity(ActivityTypes.Message, async (context) => {
    const activity = context.activity;
    const personal = isPersonalChat(activity);
    // A command names a person mentioned as one argument; evidence keeps their name as written.
    const textOf = (asWritten: boolean) => (personal ? personalChatText(activity, asWritten) : withoutBotMention(activity, asWritten)).trim();
    const typed = textOf(false);
    const files = filesIn(activity);
    const pictures = picturesIn(activity);
    const shared = sharedLinksIn(activity);
    // Answered once: Teams delivers a turn again (same activity) when our 200 came late. It is
    // answered again only when the first answer surely did not reach the Bot Connector.
    const answered = await answerOnce(db, answeredKey(activity), async () => {
      // Nothing typed ("@ISMS" alone, or only spaces), nothing attached: the answer to an empty command line, the help.
      const request = typed || files.length || pictures || shared.length ? await requestOf(activity, typed, textOf(true)) : { line: '' };
      // A picture pasted, or a file shared as a link, into a reply meant as evidence is refused: the evidence would be recorded without it.
      const attachments = files.length ? () => download(files, request)
        : pictures && 'threadReply' in request ? () => Promise.reject(pictureNotFile())
          : shared.length && 'threadReply' in request ? () => Promise.reject(sharedLinkNotFile(shared)) : undefined;
      const answered = await ask(context, request, attachments);
      // A message recorded as evidence (a reply, or a typed "evidence submit …") is remembered with what it is for:
      // an edit or deletion of it later names only the message.
      const evidenceFor = 'threadReply' in request ? request.threadReply.about : 'line' in request ? answered.reply.evidenceFor : undefined;
      if (answered.reply.outcome === 'recorded' && evidenceFor && activity.id) {
        await rememberEvidenceMessage({ conversationId: activity.conversation.id, messageId: activity.id, request: evidenceFor,
          personId: answered.person?.id, typed: 'line' in request });
      }
      await answer(context, answered);
    }, answerMayHaveArrived);
    if (!answered) logger.info({ activityId: activity.id }, 'Teams delivered a message again that was answered already, or whose answer may have arrived; not answered twice');
  });

  /** The evidence is recorded already: a failure to remember its message only costs the note on a later edit. */
  async function rememberEvidenceMessage(message: Parameters<typeof recordEvidenceMessage>[1]): Promise<void> {
    try {
      await recordEvidenceMessage(db, message);
    } catch (e) {
      logger.warn({ err: safeError(e), request: message.request }, 'could not record which request a Teams message was evidence for');
    }
  }

  /**
   * A person edited or deleted a message of theirs that was recorded as evidence: the register keeps
   * it as first sent, so they are told that, once per edit or deletion however often Teams delivers it.
   * Teams names only the changed message (its id, the same for every edit of it), so each change is
   * told apart by when it was made (the activity's timestamp). Messages not recorded as evidence,
   * changes by bots or by anyone but the person who sent the evidence get nothing. Teams sends these
   * in every scope; from a channel or group chat the note goes to the personal chat, as answers do.
   */
  const answerChange = (kind: 'editMessage' | 'softDeleteMessage') => async (context: TurnContext) => {
    const activity = context.activity;
    if (!activity.id || activity.from?.role === 'bot') return;
    const recorded = await evidenceMessage(db, activity.conversation.id, activity.id);
    // Evidence typed for a control without a request has nobody to send it back: its deletion note would point nowhere.
    if (!recorded || (kind === 'softDeleteMessage' && !EVIDENCE_REQUEST.test(recorded.request))) return;
    const said = kind === 'editMessage' ? editedEvidenceReply(recorded.request, recorded.typed ? { command: 'teams' } : { reply: replyPlace(activity) })
      : deletedEvidenceReply(recorded.request, 'teams', recorded.typed ? 'message' : 'reply');
    const key = `teams:${kind}:${activity.conversation.id}:${activity.id}:${changedAt(activity)}`;
    const answered = await answerOnce(db, key, async () => {
      if (isPersonalChat(activity)) return out.sendHere(context, said);
      // In a shared conversation a moderator may delete someone's message: only its author is told.
      const person = recorded.personId === undefined ? undefined : await findPersonById(db, recorded.personId);
      if (!person?.teamsAadObjectId || person.teamsAadObjectId !== activity.from?.aadObjectId) return;
      if (!await out.sendPrivately(context, said, person)) logger.info({ activityId: activity.id, eventType: kind }, 'could not tell the person in their Teams personal chat about a change of their evidence message');
    });
    if (!answered) logger.info({ activityId: activity.id, eventType: kind }, 'Teams delivered a change of an evidence message again that was answered already; not answered twice');
  };
  app.messageEventUpdate('editMessage', answerChange('editMessage'));
  app.messageEventUpdate('softDeleteMessage', answerChange('softDeleteMessage'));

  /**
   * An invoke the bot has no route for (a message extension, a task module, a sign-in step: the app
   * declares none of them, so only an older or tampered client sends one): answered 501 Not Implemented
   * at once, as the Bot Framework does, and logged by its name so an operator sees what was asked.
   * Registered last: the invoke routes above (card clicks, file consent) come first.
   */
  app.activity(ActivityTypes.Invoke, async (context) => {
    const { name, id } = context.activity;
    logger.info({ invoke: name ?? null, activityId: id }, 'Teams sent an invoke the bot does not handle; answered 501 Not Implemented');
    await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 501 } });
  });

  /**
   * A message replying to an evidence request is evidence for it; a file on its own is evidence for
   * the latest request the bot sent into this conversation; anything else typed is a command.
   * `written` is the text with anyone mentioned named as written, for evidence.
   */
  async function requestOf(activity: Activity, typed: string, written: string): Promise<Request> {
    const repliedTo = await evidenceRequestRepliedTo(db, activity.conversation.id, repliedToId(activity));
    if (repliedTo) return { threadReply: { about: repliedTo, text: written } };
    if (typed) return { line: typed };
    return { threadReply: { about: await latestEvidenceRequest(db, activity.conversation.id), text: '' } };
  }
}

/**
 * A channel or group message without the bot's "<at>ISMS</at>": teams-ai removes it by the mention
 * entity, which some clients leave out; then the leading mention (the bot's, or Teams would not have
 * sent the message) is removed here. Anyone else mentioned is named as a command takes a person,
 * or `asWritten`, as the name alone.
 */
export function withoutBotMention(activity: Partial<Activity>, asWritten = false): string {
  const text = plainText(activity.text ?? '');
  const name = activity.recipient?.name;
  const own = name ? text.split(`<at>${name}</at>`).join(' ') : text;
  return namesOfMentioned(own.replace(/^\s*<at>[^<]*<\/at>/, ' '), asWritten).replace(/[ \t]+/g, ' ').trim();
}

/**
 * A personal-chat message as typed: a person may @mention the bot there too, and without the mention
 * entity teams-ai leaves "<at>ISMS</at>" in the text; the bot's own mentions are left out. Anyone else
 * mentioned is named as in a channel.
 */
export function personalChatText(activity: Partial<Activity>, asWritten = false): string {
  const text = plainText(activity.text ?? '');
  const name = activity.recipient?.name;
  if (!name) return namesOfMentioned(text, asWritten);
  // Each mention of the bot, with the spaces around it, becomes one space.
  const parts = text.split(`<at>${name}</at>`);
  const own = parts.map((part, i) => (i > 0 ? part.trimStart() : part)).map((part, i) => (i < parts.length - 1 ? part.trimEnd() : part)).join(' ');
  return namesOfMentioned(own, asWritten);
}

/**
 * A message's text as typed: Teams writes "&", "<", quotes and repeated spaces as HTML entities
 * (&amp;, &lt;, &quot;, &nbsp;), which would otherwise be recorded as they are. A no-break space of any width is a space.
 * The formatting markup some clients leave in the text (<p>, <div>, <br>, <b>...) is not part of what
 * was typed: a line's end is a line break, other tags go. A "<" the person typed comes as &lt;, so it stays.
 */
export function plainText(text: string): string {
  const unformatted = text.replace(LINK, linkAsText).replace(LINE_END, '\n').replace(FORMATTING, '');
  return decodeHTML(unformatted).replace(NO_BREAK_SPACES, ' ');
}

/** No-break spaces (&nbsp;, the narrow one French typing puts inside « », the figure space): spaces as the person meant them. */
const NO_BREAK_SPACES = /[\u00a0\u202f\u2007]/g;

/** The HTML formatting Teams may write into a message's text, and its quoted-reply placeholder; <at> (a mention) is not among it. */
const FORMATTING_TAGS = 'quoted|p|div|span|br|b|strong|i|em|u|s|strike|del|ins|sub|sup|small|font|pre|code|blockquote|h[1-6]|ul|ol|li|hr|a|img|attachment|table|thead|tbody|tr|td|th';
const FORMATTING = new RegExp(`<\\/?(?:${FORMATTING_TAGS})\\b[^>]*>`, 'gi');
/** A link written as HTML: its address is what evidence needs, whatever its label says. */
const LINK = /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi;
/** A link as "label (address)", or the address alone when the label is the address. */
function linkAsText(_whole: string, double: string | undefined, single: string | undefined, label: string): string {
  const address = double ?? single ?? '';
  const shown = label.replace(FORMATTING, '').trim();
  if (!address || decodeHTML(shown) === decodeHTML(address) || !/^(https?|mailto|tel):/i.test(decodeHTML(address))) return shown || address;
  return shown ? `${shown} (${address})` : address;
}
/** Where a line ends: a line break, the end of a paragraph, block, list item or row. */
const LINE_END = /<br\b[^>]*>|<\/(?:p|div|li|h[1-6]|tr|blockquote|pre)\s*>/gi;

/**
 * "<at>Sam Staff</at>" as "Sam Staff" in quotes (one argument), or as the bare name inside text
 * already in quotes of any kind ("…", „…“, ‘…’, «…») or `asWritten` (free text, where quotes would be words nobody typed).
 */
function namesOfMentioned(text: string, asWritten = false): string {
  return text.replace(/<at>([^<]*)<\/at>/g, (_whole, mentioned: string, offset: number) =>
    (asWritten || withinQuotedPhrase(text, offset) ? mentioned : `"${mentioned}"`));
}

/**
 * When a change of a message was made: Teams stamps each edit or deletion anew and delivers it again
 * with the same stamp. Without one, an edit is told apart by its text.
 */
function changedAt(activity: Activity): string {
  const stamp = activity.timestamp as Date | string | undefined;
  if (stamp) return stamp instanceof Date ? stamp.toISOString() : stamp;
  return activity.type === ActivityTypes.MessageUpdate ? `text:${createHash('sha256').update(activity.text ?? '').digest('hex')}` : 'once';
}

/**
 * The message a message replies to: replyToId in a channel thread; in a chat, which has no reply
 * chains, the message it quotes, named by its quotedReply entity or the "<quoted messageId=…/>"
 * placeholder Teams puts at the start of its text.
 */
function repliedToId(activity: Activity): string | undefined {
  if (activity.replyToId) return activity.replyToId;
  const quoted = (activity.entities ?? []).find((e) => e.type === 'quotedReply') as { quotedReply?: { messageId?: unknown } } | undefined;
  if (typeof quoted?.quotedReply?.messageId === 'string') return quoted.quotedReply.messageId;
  return /<quoted\s+messageId="([^"]+)"\s*\/?>/i.exec(activity.text ?? '')?.[1];
}

/** Where a reply was sent as evidence: Teams has threads in channels only; in a chat a reply quotes the request. */
function replyPlace(activity: Activity): 'personal chat' | 'channel thread' | 'group chat' {
  if (isPersonalChat(activity)) return 'personal chat';
  const channelData = activity.channelData as { channel?: unknown } | undefined;
  return activity.conversation.conversationType === 'channel' || channelData?.channel ? 'channel thread' : 'group chat';
}

const hasFile = (r: Reply) => r.blocks.some((b) => b.type === 'file');

/** The claim on answering one delivery of an activity; Teams delivers it again with the same id. */
const answeredKey = (activity: Activity) => (activity.id ? `teams:answered:${activity.conversation.id}:${activity.id}` : undefined);

/**
 * One click, one record: the same person submitting the same action with the same inputs on the same
 * card (a double click is two activities) runs its command once. Undefined when Teams names no card.
 */
function clickKey(activity: Activity): string | undefined {
  const who = activity.from?.aadObjectId ?? activity.from?.id;
  if (!activity.replyToId || !who) return undefined;
  const what = createHash('sha256').update(canonicalJson(activity.value ?? null)).digest('hex');
  return `teams:click:${activity.conversation.id}:${activity.replyToId}:${who}:${what}`;
}

const offerIdOf = (context: unknown): unknown => (context as Partial<OfferContext> | undefined)?.offerId;

/** An offer this process does not hold: expired, made before a restart, or by another instance of the bot. */
const offerGone = (name?: string) =>
  `This file offer${name ? ` (${name})` : ''} is no longer available, so nothing was sent. Ask again with the command that made it (for example "export risks csv") and accept the new offer.`;

/** Teams gives a picture pasted into a message as an image the bot cannot take as a file. */
const pictureNotFile = () => invalid('I can\'t take a picture pasted into a message as evidence, so nothing was recorded.',
  'Send it as a file instead: attach it (📎) in our personal chat as a reply to the evidence request, or type "evidence submit EVR-0001" (with the request\'s reference) and attach the file to that message.');

/** Teams gives a file shared from OneDrive or SharePoint as a link to a page, not as the file. */
const sharedLinkNotFile = (names: string[]) => invalid(`I can't take a file shared as a link from OneDrive or SharePoint (${names.map((n) => `"${n}"`).join(', ')}) as evidence, so nothing was recorded.`,
  'Attach the file itself (📎, "Upload from this device") in our personal chat as a reply to the evidence request, or reply with its link as text to give the link as evidence.');

/** Fetches the files once the person is known; a refusal says what went wrong, and nothing is recorded. */
async function download(files: TeamsFile[], request: Request): Promise<Attachment[]> {
  if ('threadReply' in request && !request.threadReply.about) {
    throw invalid(`I received ${files.map((f) => `"${f.name}"`).join(', ')}, but I don't know which evidence request it is for. Nothing was recorded.`,
      'Send the file again as a reply to the evidence request message, or type "evidence submit EVR-0001" (with the request\'s reference) and attach the file to that message.');
  }
  try {
    return await fetchEach(files, downloadFile);
  } catch (e) {
    if (e instanceof FileDownloadError) throw e.hint ? invalid(e.message, e.hint) : invalid(`${e.message} Nothing was recorded; please send the file again.`);
    throw e;
  }
}

