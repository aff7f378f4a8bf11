"""Every sentence a verification report can say, in English and Thai.

Reports keep reasons as ``(code, params)``; :func:`reason_text` turns them into a sentence in
the reader's language. Sentences are written for an auditor, not a programmer: they say what
was found and what it means, without library names. An unknown code (a newer report read by an
older edoc) shows the code and its parameters rather than failing.
"""

from __future__ import annotations

_REASONS: dict[str, tuple[str, str]] = {
    # --- the file -----------------------------------------------------------------------------
    "not_pdf": (
        "The file is not a PDF document: it does not begin with the %PDF- header.",
        "ไฟล์นี้ไม่ใช่เอกสาร PDF เพราะไม่ได้ขึ้นต้นด้วยส่วนหัว %PDF-",
    ),
    "empty_file": ("The file is empty.", "ไฟล์นี้ว่างเปล่า"),
    "unreadable": (
        "The file could not be read as a PDF document ({detail}).",
        "ไม่สามารถอ่านไฟล์นี้เป็นเอกสาร PDF ได้ ({detail})",
    ),
    "encrypted": (
        "The file is encrypted and cannot be opened without its password.",
        "ไฟล์นี้ถูกเข้ารหัสและเปิดไม่ได้หากไม่มีรหัสผ่าน",
    ),
    "encrypted_empty_password": (
        "The file is encrypted with an empty password; it was opened and checked as usual.",
        "ไฟล์นี้เข้ารหัสด้วยรหัสผ่านว่าง จึงเปิดและตรวจสอบได้ตามปกติ",
    ),
    "no_signatures": (
        "The file carries no signature, so nothing vouches for its content.",
        "ไฟล์นี้ไม่มีลายมือชื่ออิเล็กทรอนิกส์ จึงไม่มีสิ่งใดรับรองเนื้อหาของเอกสาร",
    ),
    "timeout": (
        "Checking this file took longer than {seconds} seconds and was stopped; the file may be built to "
        "exhaust verifiers. Treat it as unverified.",
        "การตรวจสอบไฟล์นี้ใช้เวลาเกิน {seconds} วินาทีจึงถูกหยุด ไฟล์อาจถูกสร้างขึ้นเพื่อให้โปรแกรมตรวจสอบทำงานไม่เสร็จ "
        "ให้ถือว่ายังไม่ได้รับการตรวจสอบ",
    ),
    "memory": (
        "Checking this file needed more than {megabytes} MB of memory and was stopped. Treat it as unverified.",
        "การตรวจสอบไฟล์นี้ต้องใช้หน่วยความจำเกิน {megabytes} MB จึงถูกหยุด ให้ถือว่ายังไม่ได้รับการตรวจสอบ",
    ),
    "crashed": (
        "The PDF reader stopped unexpectedly on this file ({detail}). Treat it as unverified.",
        "โปรแกรมอ่าน PDF หยุดทำงานกะทันหันขณะอ่านไฟล์นี้ ({detail}) ให้ถือว่ายังไม่ได้รับการตรวจสอบ",
    ),
    "internal_error": (
        "The verifier met an unexpected problem ({detail}). Treat the file as unverified.",
        "โปรแกรมตรวจสอบพบปัญหาที่ไม่คาดคิด ({detail}) ให้ถือว่าไฟล์ยังไม่ได้รับการตรวจสอบ",
    ),
    "too_large": (
        "The file is {size} bytes, more than the {limit} bytes this verifier accepts.",
        "ไฟล์มีขนาด {size} ไบต์ เกินกว่า {limit} ไบต์ที่โปรแกรมตรวจสอบรับได้",
    ),
    "hybrid_xref": (
        "The file uses hybrid cross-reference sections, which different PDF readers may interpret "
        "differently; the visual comparison guards against that.",
        "ไฟล์ใช้ตารางอ้างอิงแบบผสม (hybrid cross-reference) ซึ่งโปรแกรมอ่าน PDF แต่ละตัวอาจตีความต่างกัน "
        "การเปรียบเทียบภาพหน้าเอกสารจึงใช้ตรวจสอบกรณีนี้",
    ),
    "trailing_bytes": (
        "{count} bytes follow the end of the last revision; they are not part of the document.",
        "มีข้อมูล {count} ไบต์ต่อท้ายหลังจบฉบับแก้ไขสุดท้าย ซึ่งไม่ใช่ส่วนหนึ่งของเอกสาร",
    ),
    "changed_after_last_signature": (
        "The document was changed after its last signature ({kinds}); those changes are signed by nobody.",
        "เอกสารถูกเปลี่ยนแปลงหลังลายมือชื่อสุดท้าย ({kinds}) การเปลี่ยนแปลงนั้นไม่มีผู้ใดลงนามรับรอง",
    ),
    # --- the byte range and the container -----------------------------------------------------
    "byterange_malformed": (
        "The signature's byte range is malformed ({detail}), so it is unclear what was signed.",
        "ช่วงไบต์ (ByteRange) ของลายมือชื่อมีรูปแบบไม่ถูกต้อง ({detail}) จึงไม่ชัดเจนว่าลงนามอะไรไว้",
    ),
    "byterange_outside": (
        "The signature's byte range reaches beyond the end of the file ({end} > {size} bytes).",
        "ช่วงไบต์ของลายมือชื่อเลยท้ายไฟล์ ({end} > {size} ไบต์)",
    ),
    "byterange_gap": (
        "The unsigned gap in the byte range does not hold exactly this signature's value ({detail}); "
        "the signature may have been moved or wrapped.",
        "ช่องว่างที่ไม่ถูกลงนามในช่วงไบต์ไม่ได้มีเพียงค่าลายมือชื่อนี้ ({detail}) ลายมือชื่ออาจถูกย้ายหรือห่อหุ้มใหม่",
    ),
    "byterange_not_revision": (
        "The signature's byte range does not end where a revision of the document ends, so part of the "
        "signed revision is not covered.",
        "ช่วงไบต์ของลายมือชื่อไม่ได้สิ้นสุดที่ท้ายฉบับแก้ไขของเอกสาร บางส่วนของฉบับที่ลงนามจึงไม่ได้รับการรับรอง",
    ),
    "byterange_overlap": (
        "The signature's byte range overlaps the unsigned gap of signature '{other}'.",
        "ช่วงไบต์ของลายมือชื่อนี้ทับซ้อนกับช่องว่างของลายมือชื่อ '{other}'",
    ),
    "byterange_shared": (
        "The signature value is also claimed by signature field '{other}'.",
        "ค่าลายมือชื่อนี้ถูกอ้างถึงโดยช่องลายมือชื่อ '{other}' ด้วย",
    ),
    "signature_dict_outside": (
        "The signature value in the gap does not belong to this signature's dictionary; the signature "
        "dictionary may have been replaced after signing.",
        "ค่าลายมือชื่อในช่องว่างไม่ได้อยู่ในพจนานุกรมลายมือชื่อนี้ พจนานุกรมลายมือชื่ออาจถูกแทนที่หลังการลงนาม",
    ),
    "placeholder": (
        "The signature field holds an empty placeholder, not a signature: the document was never signed here.",
        "ช่องลายมือชื่อมีเพียงพื้นที่ว่างที่จองไว้ ไม่ใช่ลายมือชื่อ เอกสารจึงไม่เคยถูกลงนามที่ช่องนี้",
    ),
    "cms_unreadable": (
        "The signature value cannot be decoded ({detail}).",
        "ไม่สามารถถอดรหัสค่าลายมือชื่อได้ ({detail})",
    ),
    "subfilter_unsupported": (
        "The signature format '{subfilter}' is not one this verifier can check.",
        "ลายมือชื่อใช้รูปแบบ '{subfilter}' ซึ่งโปรแกรมตรวจสอบนี้ตรวจไม่ได้",
    ),
    "unknown_algorithm": (
        "The signature names a digest algorithm this verifier does not know ({algorithm}).",
        "ลายมือชื่อระบุอัลกอริทึมแฮชที่โปรแกรมตรวจสอบนี้ไม่รู้จัก ({algorithm})",
    ),
    "multiple_signer_infos": (
        "The signature container holds {count} signer entries; every one of them was checked.",
        "ภาชนะลายมือชื่อมีข้อมูลผู้ลงนาม {count} รายการ และได้ตรวจสอบครบทุกรายการ",
    ),
    "signed_attrs_not_der": (
        "The signed attributes are not in the DER order the CMS standard requires, so the signature does "
        "not verify over them as a strict verifier must check it.",
        "คุณลักษณะที่ลงนาม (signed attributes) ไม่ได้เรียงตามรูปแบบ DER ที่มาตรฐาน CMS กำหนด "
        "ลายมือชื่อจึงยืนยันไม่ได้เมื่อตรวจสอบอย่างเคร่งครัด",
    ),
    "signature_dict_changed": (
        "The signature's own dictionary was rewritten after signing.",
        "พจนานุกรมของลายมือชื่อนี้ถูกเขียนใหม่หลังการลงนาม",
    ),
    "no_signing_certificate": (
        "The signature does not carry the signer's certificate, so the signer cannot be identified.",
        "ลายมือชื่อไม่มีใบรับรองของผู้ลงนาม จึงระบุตัวผู้ลงนามไม่ได้",
    ),
    # --- cryptography -------------------------------------------------------------------------
    "hash_failure": (
        "The bytes covered by the signature do not match the digest that was signed: the signed content was altered.",
        "ข้อมูลที่ลายมือชื่อครอบคลุมไม่ตรงกับค่าแฮชที่ลงนามไว้ เนื้อหาที่ลงนามจึงถูกแก้ไข",
    ),
    "sig_crypto_failure": (
        "The signature value does not verify with the public key in the signer's certificate.",
        "ค่าลายมือชื่อไม่สามารถยืนยันได้ด้วยกุญแจสาธารณะในใบรับรองของผู้ลงนาม",
    ),
    "intact": (
        "The signed content is intact: its digest matches and the signature value verifies.",
        "เนื้อหาที่ลงนามครบถ้วนไม่ถูกแก้ไข ค่าแฮชตรงกันและค่าลายมือชื่อยืนยันได้",
    ),
    "crypto_constraints": (
        "The signature uses an algorithm considered too weak ({detail}).",
        "ลายมือชื่อใช้อัลกอริทึมที่ถือว่าไม่ปลอดภัยพอ ({detail})",
    ),
    # --- trust ----------------------------------------------------------------------------------
    "no_trust_anchor_given": (
        "No trusted root certificate was given, so the signer's identity cannot be confirmed; give the "
        "root certificate with --trust.",
        "ไม่ได้ระบุใบรับรองหลักที่เชื่อถือ จึงยืนยันตัวตนของผู้ลงนามไม่ได้ ให้ระบุใบรับรองหลักด้วย --trust",
    ),
    "no_chain": (
        "The signer's certificate does not chain to any of the {count} trusted root certificate(s) given.",
        "ใบรับรองของผู้ลงนามไม่ได้ต่อสายความน่าเชื่อถือไปถึงใบรับรองหลักที่เชื่อถือซึ่งระบุไว้ {count} ใบ",
    ),
    "trusted_chain": (
        "The signer's certificate chains to the trusted root '{anchor}'.",
        "ใบรับรองของผู้ลงนามต่อสายความน่าเชื่อถือไปถึงใบรับรองหลัก '{anchor}'",
    ),
    "chain_constraints": (
        "The certificate chain does not meet the validation constraints ({detail}).",
        "สายใบรับรองไม่เป็นไปตามเงื่อนไขการตรวจสอบ ({detail})",
    ),
    "key_usage": (
        "The signer's certificate is not meant for signing documents ({detail}).",
        "ใบรับรองของผู้ลงนามไม่ได้มีไว้สำหรับลงนามเอกสาร ({detail})",
    ),
    "expired": (
        "The signer's certificate had expired when the signature was made ({detail}), and no time-stamp proves "
        "an earlier signing time.",
        "ใบรับรองของผู้ลงนามหมดอายุแล้วในเวลาที่ลงนาม ({detail}) และไม่มีการประทับเวลาที่พิสูจน์ว่าลงนามก่อนหน้านั้น",
    ),
    "not_yet_valid": (
        "The signer's certificate was not yet valid when the signature was made ({detail}).",
        "ใบรับรองของผู้ลงนามยังไม่มีผลในเวลาที่ลงนาม ({detail})",
    ),
    "revoked": (
        "The signer's certificate (or one above it) was revoked on {date} ({why}).",
        "ใบรับรองของผู้ลงนาม (หรือใบรับรองระดับสูงกว่า) ถูกเพิกถอนเมื่อ {date} ({why})",
    ),
    "revoked_no_poe": (
        "A certificate in the chain is revoked, and nothing proves the signature was made before the "
        "revocation ({detail}).",
        "มีใบรับรองในสายที่ถูกเพิกถอน และไม่มีหลักฐานว่าลงนามก่อนการเพิกถอน ({detail})",
    ),
    "revocation_good": (
        "Revocation data shows the signer's certificate was not revoked.",
        "ข้อมูลการเพิกถอนแสดงว่าใบรับรองของผู้ลงนามไม่ถูกเพิกถอน",
    ),
    "revocation_missing": (
        "No revocation data (CRL or OCSP) for the certificate chain is embedded in the file and online "
        "checking was not allowed, so revocation cannot be ruled out ({detail}).",
        "ไฟล์ไม่มีข้อมูลการเพิกถอน (CRL หรือ OCSP) ของสายใบรับรอง และไม่ได้อนุญาตให้ตรวจสอบทางออนไลน์ "
        "จึงไม่อาจตัดประเด็นการเพิกถอนได้ ({detail})",
    ),
    "out_of_bounds": (
        "The signer's certificate or its revocation data is outside its validity period and nothing proves "
        "the signature existed while it was valid ({detail}).",
        "ใบรับรองหรือข้อมูลการเพิกถอนอยู่นอกช่วงเวลาที่มีผล และไม่มีหลักฐานว่าลายมือชื่อมีอยู่ในช่วงที่ยังมีผล ({detail})",
    ),
    "validation_other": (
        "The signature could not be fully validated: {subindication} ({detail}).",
        "ไม่สามารถตรวจสอบลายมือชื่อได้ครบถ้วน: {subindication} ({detail})",
    ),
    "seed_value": (
        "The signature does not respect the constraints its field set for it ({detail}).",
        "ลายมือชื่อไม่เป็นไปตามเงื่อนไขที่ช่องลายมือชื่อกำหนดไว้ ({detail})",
    ),
    # --- time -----------------------------------------------------------------------------------
    "timestamp_valid": (
        "A time-stamp by '{tsa}' proves the signature existed on {time}.",
        "การประทับเวลาโดย '{tsa}' พิสูจน์ว่าลายมือชื่อมีอยู่แล้วเมื่อ {time}",
    ),
    "timestamp_untrusted": (
        "The time-stamping authority '{tsa}' does not chain to a trusted root, so its time is not confirmed.",
        "หน่วยงานประทับเวลา '{tsa}' ไม่ได้ต่อสายความน่าเชื่อถือไปถึงใบรับรองหลักที่เชื่อถือ จึงยืนยันเวลานั้นไม่ได้",
    ),
    "timestamp_invalid": (
        "The signature's time-stamp is not valid ({detail}); the signing time rests on the signer's word only.",
        "การประทับเวลาของลายมือชื่อไม่ถูกต้อง ({detail}) เวลาที่ลงนามจึงอ้างอิงได้เพียงคำกล่าวของผู้ลงนาม",
    ),
    "no_timestamp": (
        "There is no time-stamp: the signing time {time} is what the signer's computer claimed.",
        "ไม่มีการประทับเวลา เวลาที่ลงนาม {time} เป็นเวลาที่เครื่องของผู้ลงนามระบุเอง",
    ),
    "doc_timestamp": (
        "Document time-stamp by '{tsa}': the document as it was then existed on {time}.",
        "การประทับเวลาเอกสารโดย '{tsa}' พิสูจน์ว่าเอกสารในสภาพขณะนั้นมีอยู่แล้วเมื่อ {time}",
    ),
    "doc_timestamp_imprint": (
        "The document time-stamp does not match the document bytes it covers: it was copied from elsewhere "
        "or the document was altered.",
        "การประทับเวลาเอกสารไม่ตรงกับข้อมูลเอกสารที่ครอบคลุม อาจถูกคัดลอกมาจากที่อื่นหรือเอกสารถูกแก้ไข",
    ),
    "rfc3161_as_sig": (
        "This field holds a time-stamp token stored as a signature; it was checked as a document time-stamp.",
        "ช่องนี้เก็บโทเค็นการประทับเวลาไว้ในรูปลายมือชื่อ จึงตรวจสอบในฐานะการประทับเวลาเอกสาร",
    ),
    "validated_at": (
        "Validity was judged at {time}.",
        "พิจารณาความสมบูรณ์ ณ เวลา {time}",
    ),
    # --- changes after signing ----------------------------------------------------------------
    "covers_entire_file": (
        "The signature covers the whole file: nothing was added after it.",
        "ลายมือชื่อครอบคลุมทั้งไฟล์ ไม่มีสิ่งใดถูกเพิ่มหลังการลงนาม",
    ),
    "later_signatures_only": (
        "After this signature the file only gained further signatures, time-stamps or validation data.",
        "หลังลายมือชื่อนี้ ไฟล์มีเพียงการเพิ่มลายมือชื่ออื่น การประทับเวลา หรือข้อมูลสำหรับตรวจสอบ",
    ),
    "later_form_filling": (
        "After this signature, form fields were filled in ({fields}); the signer's permissions allow that.",
        "หลังลายมือชื่อนี้ มีการกรอกข้อมูลในแบบฟอร์ม ({fields}) ซึ่งสิทธิ์ที่ผู้ลงนามกำหนดอนุญาตไว้",
    ),
    "later_annotations": (
        "After this signature, comments or other annotations were added or changed.",
        "หลังลายมือชื่อนี้ มีการเพิ่มหรือแก้ไขความเห็นหรือหมายเหตุประกอบ (annotation)",
    ),
    "unsigned_additions": (
        "What was added after this signature ({kinds}) is signed by nobody, even where it does not show on "
        "screen (hidden, outside the page, or shown only when printed or pointed at): the file is no longer "
        "exactly what was signed.",
        "สิ่งที่เพิ่มเข้ามาหลังลายมือชื่อนี้ ({kinds}) ไม่มีผู้ใดลงนามรับรอง แม้จะไม่ปรากฏบนหน้าจอ (ซ่อนไว้ อยู่นอกหน้ากระดาษ "
        "หรือแสดงเฉพาะเมื่อพิมพ์หรือชี้เมาส์) ไฟล์นี้จึงไม่ตรงกับสิ่งที่ลงนามไว้ทุกประการ",
    ),
    "unsigned_tail": (
        "{count} bytes were appended after the end of the file's last revision; nobody signed them, and a "
        "lenient PDF reader may still read them, so the file is not exactly what was signed.",
        "มีข้อมูล {count} ไบต์ต่อท้ายหลังจบฉบับแก้ไขสุดท้ายของไฟล์ ซึ่งไม่มีผู้ใดลงนามรับรอง และโปรแกรมอ่าน PDF "
        "บางตัวอาจยังอ่านข้อมูลนั้น ไฟล์นี้จึงไม่ตรงกับสิ่งที่ลงนามไว้ทุกประการ",
    ),
    "unsigned_objects": (
        "A later revision adds {count} objects that nothing in the document uses and changes nothing else; "
        "nobody signed them, so the file is not exactly what was signed.",
        "ฉบับแก้ไขภายหลังเพิ่มออบเจกต์ {count} รายการที่ไม่มีส่วนใดของเอกสารใช้งาน และไม่ได้เปลี่ยนแปลงสิ่งอื่น "
        "ไม่มีผู้ใดลงนามรับรองออบเจกต์เหล่านั้น ไฟล์นี้จึงไม่ตรงกับสิ่งที่ลงนามไว้ทุกประการ",
    ),
    "xref_misplaced": (
        "In {count} revision(s) added after this signature, the cross-reference offset (startxref) does not "
        "point at the cross-reference section; PDF readers that repair the file and readers that do not may "
        "show different documents, and nobody signed that revision.",
        "ในฉบับแก้ไข {count} ฉบับที่เพิ่มหลังลายมือชื่อนี้ ตำแหน่งตารางอ้างอิง (startxref) ไม่ชี้ไปยังตารางอ้างอิง "
        "โปรแกรมอ่าน PDF ที่ซ่อมไฟล์และที่ไม่ซ่อมอาจแสดงเอกสารต่างกัน และไม่มีผู้ใดลงนามรับรองฉบับแก้ไขนั้น",
    ),
    "later_other": (
        "The file was changed after this signature in a way that signing, form filling, comments and "
        "validation data do not explain ({detail}).",
        "ไฟล์ถูกแก้ไขหลังลายมือชื่อนี้ในลักษณะที่ไม่ใช่การลงนาม การกรอกแบบฟอร์ม การเพิ่มความเห็น หรือการเพิ่มข้อมูลสำหรับตรวจสอบ ({detail})",
    ),
    "later_other_unknown": (
        "The changes made after this signature could not be analysed ({detail}).",
        "ไม่สามารถวิเคราะห์การเปลี่ยนแปลงที่เกิดขึ้นหลังลายมือชื่อนี้ได้ ({detail})",
    ),
    "docmdp_violation": (
        "The certifying signature allows {allowed} only, but the document was changed by {found} afterwards.",
        "ลายมือชื่อรับรองเอกสารอนุญาตเพียง {allowed} แต่เอกสารถูกเปลี่ยนแปลงด้วย {found} ในภายหลัง",
    ),
    "fieldmdp_violation": (
        "Form field '{name}' was locked by this signature but was changed afterwards.",
        "ช่องแบบฟอร์ม '{name}' ถูกล็อกโดยลายมือชื่อนี้ แต่ถูกแก้ไขในภายหลัง",
    ),
    "scripts_added": (
        "Actions or scripts were added after signing ({detail}); they can change what a reader sees.",
        "มีการเพิ่มคำสั่งหรือสคริปต์หลังการลงนาม ({detail}) ซึ่งอาจเปลี่ยนสิ่งที่ผู้อ่านเห็นได้",
    ),
    "hidden_appearance": (
        "An annotation added after signing shows content only when printed or pointed at ({detail}).",
        "หมายเหตุประกอบที่เพิ่มหลังการลงนามแสดงเนื้อหาเฉพาะเมื่อพิมพ์หรือเมื่อชี้เมาส์ ({detail})",
    ),
    # --- what a reader sees -------------------------------------------------------------------
    "visual_unchanged": (
        "Every page looks the same now as when it was signed{except_note}.",
        "ทุกหน้าของเอกสารมีลักษณะเหมือนขณะลงนาม{except_note}",
    ),
    "visual_unexplained": (
        "Page {page} looks different now from when it was signed, outside every later signature, comment "
        "and form field: the visible content was altered after signing.",
        "หน้า {page} มีลักษณะต่างจากขณะลงนาม นอกบริเวณลายมือชื่อ ความเห็น และช่องแบบฟอร์มที่เพิ่มภายหลัง "
        "แสดงว่าเนื้อหาที่มองเห็นถูกแก้ไขหลังการลงนาม",
    ),
    "visual_declared": (
        "Page {page} shows comments or form entries added or changed after signing; a reader sees them, but "
        "this signature does not vouch for them.",
        "หน้า {page} แสดงความเห็นหรือข้อมูลแบบฟอร์มที่เพิ่มหรือแก้ไขหลังการลงนาม ผู้อ่านมองเห็นได้ แต่ลายมือชื่อนี้ไม่ได้รับรองส่วนนั้น",
    ),
    "pages_changed": (
        "The document had {before} page(s) when signed and has {after} now.",
        "เอกสารมี {before} หน้าขณะลงนาม แต่ขณะนี้มี {after} หน้า",
    ),
    "page_resized": (
        "Page {page} changed size after signing.",
        "หน้า {page} เปลี่ยนขนาดหลังการลงนาม",
    ),
    "visual_failed": (
        "The pages could not be rendered to compare them with the signed version ({detail}).",
        "ไม่สามารถแสดงผลหน้าเอกสารเพื่อเปรียบเทียบกับฉบับที่ลงนามได้ ({detail})",
    ),
    "visual_skipped": (
        "The visual comparison of the pages was not run.",
        "ไม่ได้เปรียบเทียบภาพหน้าเอกสาร",
    ),
    "later_signature_unconfirmed": (
        "The appearance of later signature '{other}' is drawn on page {page}, and that signature is not confirmed.",
        "ลักษณะของลายมือชื่อ '{other}' ที่ลงภายหลังปรากฏบนหน้า {page} และลายมือชื่อนั้นยังไม่ได้รับการยืนยัน",
    ),
    # --- summaries ------------------------------------------------------------------------------
    "passed": (
        "The signature is valid: the signed content is unchanged and the signer is confirmed.",
        "ลายมือชื่อถูกต้อง เนื้อหาที่ลงนามไม่ถูกแก้ไขและยืนยันตัวผู้ลงนามได้",
    ),
}

_EXCEPT_NOTES: dict[str, tuple[str, str]] = {
    "": ("", ""),
    "signatures": (" (apart from the appearances of later signatures)", " (ยกเว้นลักษณะของลายมือชื่อที่ลงภายหลัง)"),
}


def reason_text(code: str, lang: str, params: dict[str, str]) -> str:
    """The sentence for ``code`` in ``lang`` with ``params`` filled in."""
    pair = _REASONS.get(code)
    if pair is None:
        extra = ", ".join(f"{k}={v}" for k, v in params.items())
        return f"{code} ({extra})" if extra else code
    template = pair[1] if lang == "th" else pair[0]
    fields = dict(params)
    if "except_note" in fields:
        note = _EXCEPT_NOTES.get(fields["except_note"], ("", ""))
        fields["except_note"] = note[1] if lang == "th" else note[0]
    try:
        return template.format(**fields)
    except (KeyError, IndexError):
        return template


def known_codes() -> frozenset[str]:
    """Every reason code with a sentence (tests check both languages exist)."""
    return frozenset(_REASONS)
